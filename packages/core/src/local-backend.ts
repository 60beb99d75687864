import { serialize as serializeCookie } from 'cookie'
import type { Backend, BackendAnswer, BearerCredential, CreatedRecord } from './backend.ts'
import { BoundedMap } from './bounded-map.ts'
import { type ClientHints, deviceMeta, type TrustTest, trustTest } from './client-device.ts'
import type { ResolvedConfig } from './config.ts'
import { newSessionId, randomToken, Sealer, sha256, timingSafeEqual } from './crypto.ts'
import { withDeadline } from './deadline.ts'
import type { CreateSessionOptions } from './engine.ts'
import { CoreSDKError } from './errors.ts'
import type { EventActor, LifecycleEmitter, LifecycleEvent, RevokeReason } from './events.ts'
import { MemorySessionStore } from './memory-session-store.ts'
import { isRecordActive } from './session.ts'
import type { Telemetry } from './telemetry.ts'
import type {
  AuthDecision,
  Claims,
  RefreshReleaseAnswer,
  RevocationEvent,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SessionTokens,
  TokenRefresher,
  TokenSet,
} from './types.ts'
import { authorizeToken, sessionKey, type TokenVerifier, type VerifiedToken } from './verify-token.ts'

const DAY = 86_400_000
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const ENCRYPTION_KEY_NEEDED =
  'CoreSDK configuration: sessions.encryptionKey (CORESDK_SESSION_ENCRYPTION_KEY) is missing; instances sharing a session store must share the 32-byte key that seals OAuth tokens.'

/** The backend of this process: CoreSDK's session rules over a {@link SessionStore}, every call under its deadline. */
export class LocalBackend implements Backend {
  readonly verifiesLocally = true
  readonly #config: ResolvedConfig
  readonly #verifier: TokenVerifier
  readonly #store: SessionStore
  readonly #ownsStore: boolean
  readonly #sealer: Sealer | null
  readonly #refreshing = new Map<string, Promise<SessionRecord>>()
  readonly #touching = new Set<string>()
  readonly #realm: { realm: string }
  readonly #events: LifecycleEmitter
  readonly #telemetry: Telemetry | null
  readonly #trust: TrustTest | null

  constructor(
    config: ResolvedConfig,
    verifier: TokenVerifier,
    events: LifecycleEmitter,
    telemetry: Telemetry | null = null,
  ) {
    this.#config = config
    this.#telemetry = telemetry
    this.#verifier = verifier
    this.#events = events
    this.#ownsStore = config.sessions.store === undefined
    this.#store = config.sessions.store ?? new MemorySessionStore()
    const keys = config.sessions.encryptionKeys
    // A random key is only sound when no other process reads the store: the default memory store.
    if (keys.length === 0 && !this.#ownsStore && config.sessions.tokenRefresher !== undefined)
      throw new CoreSDKError('invalid_config', ENCRYPTION_KEY_NEEDED)
    this.#sealer = keys.length > 0 || this.#ownsStore ? new Sealer(keys) : null
    this.#realm = { realm: config.serviceName }
    this.#trust = trustTest(config.trustProxy) as TrustTest | null
  }

  authorize(token: string): Promise<AuthDecision> {
    return authorizeToken(this.#verifier, token, this.#realm)
  }

  async degradedLogout(): Promise<never> {
    throw new CoreSDKError('store_unavailable', 'The session of a degraded request could not be revoked.')
  }

  onRevocation(listener: (event: RevocationEvent) => void): (() => void) | undefined {
    const tenantId = this.#config.tenantId
    return this.#store.onRevocation?.((event) => {
      if (event.tenantId === tenantId) listener(event)
    })
  }

  async close(): Promise<void> {
    if (this.#ownsStore) await this.#store.close?.()
  }

  async bearer({ token, verified, hints }: BearerCredential): Promise<BackendAnswer> {
    if (verified === null)
      throw new CoreSDKError('internal_error', 'A bearer token reached the store unverified.')
    const { claims } = verified
    if (!this.#config.sessions.automatic) return { ok: true, user: claims, record: null, degraded: false }
    const key = await sessionKey(token, verified)
    return this.#answer(claims, await this.#sessionForToken(verified, key, hints))
  }

  bearerNow(verified: VerifiedToken, now: number): BackendAnswer | undefined {
    if (!this.#config.sessions.automatic)
      return { ok: true, user: verified.claims, record: null, degraded: false }
    // A token naming no session has its key once a first request computed it (the verified token is cached).
    if (verified.key === null || this.#store.peekByKey === undefined) return undefined
    const record = this.#store.peekByKey(this.#config.tenantId, verified.key, now)
    // No session yet, or one no longer active: `bearer` creates the next (or refuses).
    if (record === undefined || (record.revokedAt === null && !isRecordActive(record, now))) return undefined
    return this.#answer(verified.claims, record, now)
  }

  /** A bearer token's answer, once its session is known: refused when revoked or another user's. */
  #answer(claims: Claims, record: SessionRecord, now?: number): BackendAnswer {
    if (record.userId !== claims.sub || record.revokedAt !== null)
      return { ok: false, code: 'invalid_token', record, clearCookie: false }
    this.#touch(record, now)
    return { ok: true, user: claims, record, degraded: false }
  }

  async #sessionForToken(token: VerifiedToken, key: string, hints: ClientHints): Promise<SessionRecord> {
    const now = Date.now()
    const tenantId = this.#config.tenantId
    const existing = await this.#call('getByKey', this.#store.getByKey(tenantId, key))
    if (existing && (existing.revokedAt !== null || isRecordActive(existing, now))) return existing
    const candidate = this.#newRecord(now, token, key, 'token', deviceMeta(hints, this.#trust))
    candidate.retainUntil = Math.max(
      candidate.absoluteExpiresAt,
      token.expiresAt + this.#config.jwt.clockTolerance * 1000,
    )
    const result = await this.#call(
      'create',
      this.#store.create(tenantId, candidate, this.#config.sessions.limits),
    )
    this.#created(result, 'user')
    return result.record
  }

  /** Reports what a store's create did: the session it stored, and the ones the per-user cap revoked for it. */
  #created(result: { record: SessionRecord; created: boolean; revoked?: string[] }, actor: EventActor): void {
    const { record } = result
    for (const id of result.revoked ?? [])
      this.#revoked(id, record.userId, Date.now(), 'system', 'session_limit')
    if (!result.created || record.revokedAt !== null) return
    const { id: sessionId, userId, origin, createdAt: at } = record
    this.#emit({ type: 'session.created', at, actor, sessionId, userId, origin })
  }

  #revoked(sessionId: string, userId: string, at: number, actor: EventActor, reason: RevokeReason): void {
    this.#emit({ type: 'session.revoked', at, actor, sessionId, userId, reason })
  }

  /** Emits a lifecycle event of this backend's tenant. */
  #emit(event: DistributiveOmit<LifecycleEvent, 'tenantId'>): void {
    this.#events.emit({ ...event, tenantId: this.#config.tenantId } as LifecycleEvent)
  }

  #newRecord(
    now: number,
    token: VerifiedToken,
    key: string,
    origin: SessionRecord['origin'],
    meta: Record<string, string>,
  ): SessionRecord {
    const { idleTimeout, absoluteTimeout } = this.#config.sessions
    const absoluteExpiresAt = now + absoluteTimeout * 1000
    return {
      id: newSessionId(now),
      tenantId: this.#config.tenantId,
      userId: token.claims.sub,
      key,
      origin,
      createdAt: now,
      issuedAt: token.issuedAt,
      lastSeenAt: now,
      expiresAt: Math.min(absoluteExpiresAt, now + idleTimeout * 1000),
      absoluteExpiresAt,
      revokedAt: null,
      retainUntil: absoluteExpiresAt,
      claims: token.claims,
      secretHash: null,
      tokens: null,
      meta,
    }
  }

  async cookie(id: string, secret: string): Promise<BackendAnswer> {
    // A cookie session has nothing to verify without the store: it never passes degraded.
    const record = await this.#call('get', this.#store.get(this.#config.tenantId, id))
    if (!record || record.secretHash === null || !timingSafeEqual(await sha256(secret), record.secretHash))
      return { ok: false, code: 'invalid_token', record: null, clearCookie: true }
    if (!isRecordActive(record, Date.now())) {
      const code = record.revokedAt === null ? 'token_expired' : 'invalid_token'
      return { ok: false, code, record, clearCookie: true }
    }
    this.#touch(record)
    return { ok: true, user: record.claims, record, degraded: false }
  }

  /** Slides the idle expiry and records `lastSeenAt`, at most once per `touchInterval` per session, off the request path. */
  #touch(record: SessionRecord, now = Date.now()): void {
    if (now - record.lastSeenAt < this.#config.sessions.touchInterval * 1000 || this.#touching.has(record.id))
      return
    this.#touching.add(record.id)
    const expiresAt = Math.min(record.absoluteExpiresAt, now + this.#config.sessions.idleTimeout * 1000)
    this.#call('update', this.#store.update(this.#config.tenantId, record.id, { lastSeenAt: now, expiresAt }))
      .catch(() => {
        // A missed touch only shortens the idle window; the next request tries again.
      })
      .finally(() => this.#touching.delete(record.id))
  }

  async create(
    tokenSet: TokenSet,
    verified: VerifiedToken | null,
    options: CreateSessionOptions,
  ): Promise<CreatedRecord> {
    if (verified === null) throw new CoreSDKError('internal_error', 'A login reached the store unverified.')
    const token =
      typeof tokenSet.id_token === 'string' ? tokenSet.id_token : (tokenSet.access_token as string)
    const now = Date.now()
    const tenantId = this.#config.tenantId
    const secret = randomToken(32)
    const sealed = await this.#sealTokens(tokenSet, now)
    // A login is its own session unless it continues a provider session already bound here (the same `sid`); a token
    // whose own session (by jti or hash) was revoked cannot start one.
    const tokenKey = await sessionKey(token, verified)
    const key = tokenKey.startsWith('sid:') ? tokenKey : null
    if (key === null) {
      const bound = await this.#call('getByKey', this.#store.getByKey(tenantId, tokenKey))
      if (bound !== null && bound.revokedAt !== null) throw new CoreSDKError('invalid_token')
    }
    // `userAgent` and `ip` are only ever what core read and checked, never a caller's free-form value.
    const { userAgent: _userAgent, ip: _ip, ...extra } = options.meta ?? {}
    const candidate = this.#newRecord(now, verified, key ?? tokenKey, 'login', {
      ...extra,
      ...deviceMeta(options, this.#trust),
    })
    const { persistent } = options
    if (persistent !== undefined) {
      candidate.persistent = persistent
      if (persistent) {
        candidate.absoluteExpiresAt = now + this.#config.sessions.persistentTimeout * 1000
        candidate.retainUntil = candidate.absoluteExpiresAt
      }
    }
    candidate.key = key
    candidate.secretHash = await sha256(secret)
    candidate.tokens = sealed
    const stored = await this.#call(
      'create',
      this.#store.create(tenantId, candidate, this.#config.sessions.limits),
    )
    const { record, created } = stored
    // A revoked session, or a revoke-all that covers the token, refuses the login as it refuses the token itself.
    if (record.revokedAt !== null || record.userId !== candidate.userId)
      throw new CoreSDKError('invalid_token')
    this.#created(stored, 'user')
    if (created) return { record, secret, setCookie: this.#sessionCookie(record, secret, persistent) }
    // A new login in a provider session already bound here: the session stays, what it binds is renewed (claims,
    // idle expiry, tokens), and the login gets a new secret, never the old one. Its absolute expiry stays: the
    // cookie follows this login's choice, up to that expiry.
    const updated = await this.#call(
      'update',
      this.#store.update(tenantId, record.id, {
        claims: candidate.claims,
        secretHash: candidate.secretHash,
        tokens: sealed,
        lastSeenAt: now,
        expiresAt: Math.min(record.absoluteExpiresAt, now + this.#config.sessions.idleTimeout * 1000),
      }),
    )
    if (updated === null || updated.revokedAt !== null) throw new CoreSDKError('invalid_token')
    this.#refreshed(updated, now, 'user', 'login', sealed !== null)
    return { record: updated, secret, setCookie: this.#sessionCookie(updated, secret, persistent) }
  }

  get(id: string): Promise<SessionRecord | null> {
    return this.#call('get', this.#store.get(this.#config.tenantId, id))
  }

  providerSession(sid: string): Promise<SessionRecord | null> {
    return this.#call('getByKey', this.#store.getByKey(this.#config.tenantId, `sid:${sid}`))
  }

  // One-time keys when the store cannot hold them: this process only, bounded (an evicted key could be claimed again).
  readonly #once = new BoundedMap<string, true>(10_000)

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    if (this.#store.claimOnce)
      return this.#call('claimOnce', this.#store.claimOnce(this.#config.tenantId, key, expiresAt))
    if (this.#once.has(key)) return false
    this.#once.set(key, true, expiresAt)
    return true
  }

  refresh(id: string): Promise<SessionRecord> {
    const running = this.#refreshing.get(id)
    if (running) return running
    const work = this.#doRefresh(id).finally(() => this.#refreshing.delete(id))
    this.#refreshing.set(id, work)
    return work
  }

  async #doRefresh(id: string): Promise<SessionRecord> {
    const refresher = this.#config.sessions.tokenRefresher
    const store = this.#store
    if (refresher !== undefined && store.acquireRefreshLock && store.releaseRefreshLock)
      return this.#refreshLocked(id, refresher)
    // Without a lock in the store, one refresh per session runs in this process (the #refreshing map).
    const record = await this.get(id)
    if (!record || !isRecordActive(record, Date.now())) throw new CoreSDKError('session_not_found')
    const held = refresher && record.tokens !== null ? await this.#openTokens(record.tokens) : null
    const rotation = held?.refreshToken
      ? await this.#rotate(record, held.refreshToken, refresher!)
      : { tokens: await this.#reseal(record.tokens) }
    if ('lostTo' in rotation) return rotation.lostTo
    const patch = this.#slide(record, rotation.tokens)
    const updated = await this.#call('update', this.#store.update(this.#config.tenantId, id, patch))
    if (!updated) throw new CoreSDKError('session_not_found')
    this.#refreshed(updated, patch.lastSeenAt!, 'service', 'refresh', rotation.tokens !== record.tokens)
    return updated
  }

  #refreshed(
    record: SessionRecord,
    at: number,
    actor: EventActor,
    via: 'refresh' | 'login',
    rotated: boolean,
  ): void {
    this.#emit({
      type: 'session.refreshed',
      at,
      actor,
      sessionId: record.id,
      userId: record.userId,
      via,
      rotated,
    })
  }

  /**
   * One refresh per session across every instance sharing the store: the caller that takes the store's lock
   * refreshes, and the others poll (each poll a fresh read that also tries the lock) until the session's tokens
   * change, which is the holder's result, or the lock is free again, when the holder failed or died.
   */
  async #refreshLocked(id: string, refresher: TokenRefresher): Promise<SessionRecord> {
    const store = this.#store as Required<Pick<SessionStore, 'acquireRefreshLock'>> & SessionStore
    const { refreshLockTtl: ttl, storeTimeout } = this.#config.sessions
    const deadline = Date.now() + ttl + storeTimeout
    let seen: string | null | undefined
    for (let poll = 0; ; poll++) {
      const { record, fence } = await this.#call(
        'acquireRefreshLock',
        store.acquireRefreshLock(this.#config.tenantId, id, ttl),
      )
      if (record === null || !isRecordActive(record, Date.now())) {
        if (fence !== null) await this.#release(id, fence)
        throw new CoreSDKError('session_not_found')
      }
      if (seen === undefined) seen = record.tokens
      else if (record.tokens !== seen) {
        // Another instance's refresh wrote its tokens meanwhile: they are this caller's result too.
        if (fence !== null) await this.#release(id, fence)
        return record
      }
      if (fence !== null) return this.#refreshHolding(record, fence, refresher)
      const left = deadline - Date.now()
      if (left <= 0)
        throw new CoreSDKError('refresh_failed', "The session's refresh lock was held past its TTL.")
      await sleep(Math.min(20 * 2 ** poll, 250, left))
    }
  }

  async #refreshHolding(
    record: SessionRecord,
    fence: number,
    refresher: TokenRefresher,
  ): Promise<SessionRecord> {
    let released = false
    try {
      const held = record.tokens === null ? null : await this.#openTokens(record.tokens)
      const rotation = held?.refreshToken
        ? await this.#rotate(record, held.refreshToken, refresher, async () => {
            released = true
            return (await this.#release(record.id, fence)).record
          })
        : { tokens: await this.#reseal(record.tokens) }
      if ('lostTo' in rotation) return rotation.lostTo
      released = true
      // Written only when no refresh with a greater fence wrote first; either way the answer is what is stored.
      const patch = this.#slide(record, rotation.tokens)
      const { record: stored } = await this.#release(record.id, fence, patch)
      if (stored === null) throw new CoreSDKError('session_not_found')
      this.#refreshed(stored, patch.lastSeenAt!, 'service', 'refresh', rotation.tokens !== record.tokens)
      return stored
    } finally {
      if (!released) await this.#release(record.id, fence).catch(() => {})
    }
  }

  /**
   * Runs the refresher on the session's refresh token: the new tokens, sealed, or (`lostTo`) the session as another
   * instance's rotation left it when this one lost the race. `reread` reads the session as stored now.
   */
  async #rotate(
    record: SessionRecord,
    refreshToken: string,
    refresher: TokenRefresher,
    reread: () => Promise<SessionRecord | null> = () => this.get(record.id),
  ): Promise<{ tokens: string | null } | { lostTo: SessionRecord }> {
    let next: TokenSet
    try {
      next = await refresher.refresh(refreshToken, record)
    } catch (error) {
      const failure = CoreSDKError.from(error, 'refresh_failed')
      if (failure.code !== 'refresh_token_invalid') throw failure
      // Refused: the session ends only when the token refused is still the one it holds. When another instance
      // rotated it meanwhile, this call lost a race, and the session stays as that rotation left it.
      const current = await reread()
      if (current !== null && current.revokedAt === null && current.tokens !== null) {
        const stored = await this.#openTokens(current.tokens)
        if (stored.refreshToken !== refreshToken) return { lostTo: current }
      }
      await this.#revoke(record.id, 'system', 'refresh_token_invalid')
      throw failure
    }
    const tokens = await this.#sealTokens(
      { ...next, refresh_token: next.refresh_token ?? refreshToken },
      Date.now(),
    )
    return { tokens }
  }

  /** The patch of a refresh: the idle expiry slides (never past the absolute one), the tokens are the new ones. */
  #slide(record: SessionRecord, tokens: string | null): SessionPatch {
    const now = Date.now()
    const expiresAt = Math.min(record.absoluteExpiresAt, now + this.#config.sessions.idleTimeout * 1000)
    return { lastSeenAt: now, expiresAt, tokens }
  }

  #release(id: string, fence: number, patch?: SessionPatch): Promise<RefreshReleaseAnswer> {
    return this.#call(
      'releaseRefreshLock',
      this.#store.releaseRefreshLock!(this.#config.tenantId, id, fence, patch),
    )
  }

  revoke(id: string, actor: EventActor): Promise<SessionRecord | null> {
    return this.#revoke(id, actor, 'requested')
  }

  async #revoke(id: string, actor: EventActor, reason: RevokeReason): Promise<SessionRecord | null> {
    const at = this.#revokeTime()
    const record = await this.#call('revoke', this.#store.revoke(this.#config.tenantId, id, at))
    // The store keeps the first revokedAt: a session revoked before (at another time) is no change of this call's.
    if (record !== null && record.revokedAt === at) this.#revoked(id, record.userId, at, actor, reason)
    return record
  }

  #lastRevokeAt = 0

  /**
   * Now, in ms, but never the time of an earlier revoke of this process: a second revoke of a session within the same
   * millisecond must not read the first one's revokedAt as its own (and report the change twice).
   */
  #revokeTime(): number {
    this.#lastRevokeAt = Math.max(Date.now(), this.#lastRevokeAt + 1)
    return this.#lastRevokeAt
  }

  async revokeAll(userId: string, actor: EventActor): Promise<{ revoked: number; at: number }> {
    const at = Date.now()
    const retainFor = Math.max(this.#config.sessions.absoluteTimeout * 1000, DAY)
    const ids = await this.#call(
      'revokeAllForUser',
      this.#store.revokeAllForUser(this.#config.tenantId, userId, at, retainFor),
    )
    this.#usersRevoked(userId, at, actor, null, ids)
    return { revoked: ids.length, at }
  }

  async revokeOthers(userId: string, keepId: string, actor: EventActor): Promise<string[]> {
    const tenantId = this.#config.tenantId
    const at = this.#revokeTime()
    let ids: string[]
    if (this.#store.revokeOthersForUser) {
      ids = await this.#call(
        'revokeOthersForUser',
        this.#store.revokeOthersForUser(tenantId, userId, keepId, at),
      )
    } else {
      // Composed from list and revoke: a session created between the two stays active (see SessionStore).
      const records = await this.#call('listForUser', this.#store.listForUser(tenantId, userId))
      ids = []
      for (const record of records) {
        if (record.id === keepId || !isRecordActive(record, at)) continue
        const revoked = await this.#call('revoke', this.#store.revoke(tenantId, record.id, at))
        if (revoked !== null && revoked.revokedAt === at) ids.push(record.id)
      }
    }
    // A call that found nothing to revoke changed nothing: no event.
    if (ids.length > 0) this.#usersRevoked(userId, at, actor, keepId, ids)
    return ids
  }

  #usersRevoked(
    userId: string,
    at: number,
    actor: EventActor,
    keptSessionId: string | null,
    sessionIds: string[],
  ): void {
    const scope = keptSessionId === null ? 'all' : 'others'
    this.#emit({ type: 'user.sessions_revoked', at, actor, userId, scope, keptSessionId, sessionIds })
  }

  list(userId: string, includeInactive: boolean): Promise<SessionRecord[]> {
    return this.#call('listForUser', this.#store.listForUser(this.#config.tenantId, userId)).then(
      (records) => {
        const now = Date.now()
        return includeInactive ? records : records.filter((r) => isRecordActive(r, now))
      },
    )
  }

  async tokens(id: string): Promise<SessionTokens | null> {
    const record = await this.get(id)
    return record === null || record.tokens === null ? null : this.#openTokens(record.tokens)
  }

  async #sealTokens(tokenSet: TokenSet, now: number): Promise<string | null> {
    const tokens: SessionTokens = {
      accessToken: typeof tokenSet.access_token === 'string' ? tokenSet.access_token : undefined,
      idToken: typeof tokenSet.id_token === 'string' ? tokenSet.id_token : undefined,
      refreshToken: typeof tokenSet.refresh_token === 'string' ? tokenSet.refresh_token : undefined,
      accessTokenExpiresAt:
        typeof tokenSet.expires_in === 'number' ? now + tokenSet.expires_in * 1000 : undefined,
      scope: typeof tokenSet.scope === 'string' ? tokenSet.scope : undefined,
      tokenType: typeof tokenSet.token_type === 'string' ? tokenSet.token_type : undefined,
    }
    if (!tokens.accessToken && !tokens.refreshToken && !tokens.idToken) return null
    if (this.#sealer === null) throw new CoreSDKError('invalid_config', ENCRYPTION_KEY_NEEDED)
    return this.#sealer.seal(JSON.stringify(tokens))
  }

  /**
   * Opens sealed tokens; tokens this process cannot open are an error, never "no tokens": `refresh_token_invalid`
   * (the session can no longer be refreshed; a new login gives it tokens again), which ends nothing by itself.
   */
  async #openTokens(sealed: string): Promise<SessionTokens> {
    const plain = this.#sealer === null ? null : await this.#sealer.open(sealed)
    if (plain === null) {
      throw new CoreSDKError(
        'refresh_token_invalid',
        "The session's OAuth tokens could not be opened: instances sharing a store must share sessions.encryptionKey (CORESDK_SESSION_ENCRYPTION_KEY), and a key dropped from it no longer opens what it sealed.",
      )
    }
    return JSON.parse(plain) as SessionTokens
  }

  /** Tokens sealed with an older key, sealed again with the newest (a refresh moves sessions onto it); else as they are. */
  async #reseal(sealed: string | null): Promise<string | null> {
    if (sealed === null || this.#sealer === null || (await this.#sealer.isCurrent(sealed))) return sealed
    const plain = await this.#sealer.open(sealed)
    return plain === null ? sealed : this.#sealer.seal(plain)
  }

  #call<T>(name: string, operation: Promise<T>): Promise<T> {
    const call = withDeadline(operation, this.#config.sessions.storeTimeout)
    return this.#telemetry === null ? call : this.#telemetry.store(name, call)
  }

  /** The session cookie: persistent up to the session's absolute expiry, or (`persistent: false`) for the browser session. */
  #sessionCookie(record: SessionRecord, secret: string, persistent: boolean | undefined): string {
    const c = this.#config.sessions.cookie
    const maxAge =
      (persistent ?? record.persistent) === false
        ? undefined
        : Math.max(0, Math.ceil((record.absoluteExpiresAt - Date.now()) / 1000))
    return serializeCookie(c.name, `${record.id}.${secret}`, {
      httpOnly: true,
      secure: c.secure,
      sameSite: c.sameSite,
      path: c.path,
      domain: c.domain,
      maxAge,
    })
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
