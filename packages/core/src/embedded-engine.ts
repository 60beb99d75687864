import { parse as parseCookie, serialize as serializeCookie } from 'cookie'
import type { ResolvedConfig } from './config.ts'
import { isSessionId, newSessionId, randomToken, Sealer, sha256, timingSafeEqual } from './crypto.ts'
import { withDeadline } from './deadline.ts'
import type {
  AuthApi,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  CreateSessionOptions,
  Engine,
  ListSessionsOptions,
  LogoutRequest,
  LogoutResult,
  SessionsApi,
} from './engine.ts'
import { CoreSDKError, problemFor, problemForReason } from './errors.ts'
import { MemorySessionStore } from './memory-session-store.ts'
import { RevocationMemory } from './revocation-memory.ts'
import { CreatedSession, isRecordActive, Session } from './session.ts'
import type { HttpProblem, SessionRecord, SessionStore, SessionTokens, TokenSet } from './types.ts'
import { authorizeToken, sessionKey, TokenVerifier, type VerifiedToken } from './verify-token.ts'

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
const DAY = 86_400_000

type Extracted =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string }
  | { kind: 'cookie'; id: string; secret: string }
  | { kind: 'bad_cookie' }

/** The engine that runs in this process: CoreSDK's rules over a {@link SessionStore}. */
export class EmbeddedEngine implements Engine {
  readonly auth: AuthApi
  readonly sessions: SessionsApi
  readonly #config: ResolvedConfig
  readonly #verifier: TokenVerifier
  readonly #store: SessionStore
  readonly #ownsStore: boolean
  readonly #sealer: Sealer
  readonly #known = new RevocationMemory()
  readonly #refreshing = new Map<string, Promise<Session>>()
  readonly #touching = new Set<string>()
  readonly #realm: { realm: string }
  readonly #unsubscribe: (() => void) | undefined

  constructor(config: ResolvedConfig) {
    this.#config = config
    this.#verifier = new TokenVerifier(config.jwt, config.tenantId)
    this.#ownsStore = config.sessions.store === undefined
    this.#store = config.sessions.store ?? new MemorySessionStore()
    this.#sealer = new Sealer(config.sessions.encryptionKey)
    this.#realm = { realm: config.serviceName }
    this.#unsubscribe = this.#store.onRevocation?.((event) => {
      if (event.tenantId === config.tenantId) this.#known.apply(event)
    })
    this.auth = { authorize: (request) => authorizeToken(this.#verifier, request?.token, this.#realm) }
    this.sessions = {
      create: (tokenSet, options) => this.#create(tokenSet, options),
      get: (id) => this.#get(id),
      refresh: (id) => this.#refresh(id),
      revoke: (id) => this.#revoke(id),
      revokeAllForUser: (userId) => this.#revokeAll(userId),
      revokeForUser: (userId) => this.#revokeAll(userId),
      listForUser: (userId, options) => this.#list(userId, options),
      getTokens: (id) => this.#getTokens(id),
    }
  }

  async close(): Promise<void> {
    this.#unsubscribe?.()
    this.#verifier.close()
    if (this.#ownsStore) await this.#store.close?.()
  }

  // ---- The request pipeline -----------------------------------------------------------------------------

  async authenticate(
    request: AuthenticateRequest,
    options: AuthenticateOptions = {},
  ): Promise<AuthenticateResult> {
    try {
      const credential = this.#extract(request)
      switch (credential.kind) {
        case 'none':
          if (options.optional) return { ok: true, user: null, session: null, degraded: false, setCookie: [] }
          return this.#refuse(problemFor('missing_credentials', this.#realm))
        case 'malformed':
          return this.#refuse(problemFor('invalid_request', this.#realm))
        case 'bad_cookie':
          return this.#refuse(problemFor('invalid_token', this.#realm), true)
        case 'bearer':
          return await this.#authenticateBearer(credential.token, request)
        case 'cookie':
          return await this.#authenticateCookie(credential.id, credential.secret)
      }
    } catch (error) {
      return this.#refuse(this.#problemFromFailure(error))
    }
  }

  #extract(request: AuthenticateRequest): Extracted {
    let authorization = request.authorization
    if (Array.isArray(authorization)) {
      if (authorization.length > 1) return { kind: 'malformed' }
      authorization = authorization[0]
    }
    if (typeof authorization === 'string') {
      const match = BEARER.exec(authorization)
      return match ? { kind: 'bearer', token: match[1]! } : { kind: 'malformed' }
    }
    const header = Array.isArray(request.cookie) ? request.cookie.join('; ') : request.cookie
    if (typeof header !== 'string' || header === '') return { kind: 'none' }
    const value = parseCookie(header)[this.#config.sessions.cookie.name]
    if (value === undefined || value === '') return { kind: 'none' }
    const dot = value.indexOf('.')
    const id = value.slice(0, dot)
    const secret = value.slice(dot + 1)
    if (dot === -1 || !isSessionId(id) || !/^[A-Za-z0-9_-]{22,128}$/.test(secret))
      return { kind: 'bad_cookie' }
    return { kind: 'cookie', id, secret }
  }

  #refuse(problem: HttpProblem, clearCookie = false): AuthenticateResult {
    return { ok: false, problem, setCookie: clearCookie ? [this.#clearCookie()] : [] }
  }

  async #authenticateBearer(token: string, request: AuthenticateRequest): Promise<AuthenticateResult> {
    const verified = await this.#verifier.verify(token)
    if (!verified.ok) return this.#refuse(problemForReason(verified.reason, this.#realm))
    const { claims } = verified.token
    const key = await sessionKey(token, verified.token)
    if (this.#known.rejects(key, claims.sub, verified.token.issuedAt)) {
      return this.#refuse(problemFor('invalid_token', this.#realm))
    }
    if (!this.#config.sessions.automatic)
      return { ok: true, user: claims, session: null, degraded: false, setCookie: [] }
    let record: SessionRecord
    try {
      record = await this.#sessionForToken(verified.token, key, request)
    } catch (error) {
      const failure = CoreSDKError.from(error, 'store_unavailable')
      if (failure.code !== 'store_unavailable' || this.#config.failMode === 'closed') throw failure
      // Fail open: the signature and claims are verified; what this instance knows of revocations still holds.
      return { ok: true, user: claims, session: null, degraded: true, setCookie: [] }
    }
    if (record.userId !== claims.sub || record.revokedAt !== null) {
      this.#known.remember(record)
      return this.#refuse(problemFor('invalid_token', this.#realm))
    }
    this.#touch(record)
    return { ok: true, user: claims, session: new Session(record), degraded: false, setCookie: [] }
  }

  async #sessionForToken(
    token: VerifiedToken,
    key: string,
    request: AuthenticateRequest,
  ): Promise<SessionRecord> {
    const now = Date.now()
    const existing = await this.#call(this.#store.getByKey(this.#config.tenantId, key))
    if (existing && (existing.revokedAt !== null || isRecordActive(existing, now))) return existing
    const { idleTimeout, absoluteTimeout } = this.#config.sessions
    const absoluteExpiresAt = now + absoluteTimeout * 1000
    const candidate: SessionRecord = {
      id: newSessionId(now),
      tenantId: this.#config.tenantId,
      userId: token.claims.sub,
      key,
      origin: 'token',
      createdAt: now,
      // A token without iat or nbf counts as issued at the epoch: a revoke-all rejects it.
      issuedAt: token.issuedAt ?? 0,
      lastSeenAt: now,
      expiresAt: Math.min(absoluteExpiresAt, now + idleTimeout * 1000),
      absoluteExpiresAt,
      revokedAt: null,
      retainUntil: Math.max(absoluteExpiresAt, token.expiresAt + this.#config.jwt.clockTolerance * 1000),
      claims: token.claims,
      secretHash: null,
      tokens: null,
      meta: userAgentMeta(request.userAgent),
    }
    const { record } = await this.#call(this.#store.create(this.#config.tenantId, candidate))
    return record
  }

  async #authenticateCookie(id: string, secret: string): Promise<AuthenticateResult> {
    // A cookie session has nothing to verify without the store: it never passes degraded.
    const record = await this.#call(this.#store.get(this.#config.tenantId, id))
    const now = Date.now()
    if (!record || record.secretHash === null || !timingSafeEqual(await sha256(secret), record.secretHash)) {
      return this.#refuse(problemFor('invalid_token', this.#realm), true)
    }
    if (!isRecordActive(record, now)) {
      this.#known.remember(record)
      return this.#refuse(
        problemFor(record.revokedAt === null ? 'token_expired' : 'invalid_token', this.#realm),
        true,
      )
    }
    this.#touch(record)
    return { ok: true, user: record.claims, session: new Session(record), degraded: false, setCookie: [] }
  }

  /** Slides the idle expiry and records `lastSeenAt`, at most once per `touchInterval` per session, off the request path. */
  #touch(record: SessionRecord): void {
    const now = Date.now()
    if (now - record.lastSeenAt < this.#config.sessions.touchInterval * 1000 || this.#touching.has(record.id))
      return
    this.#touching.add(record.id)
    const expiresAt = Math.min(record.absoluteExpiresAt, now + this.#config.sessions.idleTimeout * 1000)
    this.#call(this.#store.update(this.#config.tenantId, record.id, { lastSeenAt: now, expiresAt }))
      .catch(() => {
        // A missed touch only shortens the idle window; the next request tries again.
      })
      .finally(() => this.#touching.delete(record.id))
  }

  async logout(request: LogoutRequest): Promise<LogoutResult> {
    let revoked = 0
    const userId = request.user?.sub ?? request.session?.userId
    if (request.everywhere && userId) revoked = await this.#revokeAll(userId)
    else if (request.session) revoked = (await this.#revoke(request.session.id)) ? 1 : 0
    // The session of a degraded request is unknown: nothing can be revoked, and a logout never reports success then.
    else if (request.degraded)
      throw new CoreSDKError('store_unavailable', 'The session of a degraded request could not be revoked.')
    return { revoked, setCookie: [this.#clearCookie()] }
  }

  // ---- Sessions -----------------------------------------------------------------------------------------

  async #create(tokenSet: TokenSet, options: CreateSessionOptions = {}): Promise<CreatedSession> {
    if (tokenSet === null || typeof tokenSet !== 'object') {
      throw new CoreSDKError('invalid_request', 'sessions().create() takes an OAuth token set.')
    }
    const idToken = typeof tokenSet.id_token === 'string' ? tokenSet.id_token : undefined
    const accessToken = typeof tokenSet.access_token === 'string' ? tokenSet.access_token : undefined
    const token = idToken ?? accessToken
    if (!token)
      throw new CoreSDKError('invalid_request', 'The token set has neither an id_token nor an access_token.')
    const verified = await this.#verifier.verify(token, { kind: idToken ? 'id_token' : 'access_token' })
    if (!verified.ok) {
      const problem = problemForReason(verified.reason)
      throw new CoreSDKError(problem.body.code as CoreSDKError['code'])
    }
    const now = Date.now()
    const secret = randomToken(32)
    const { idleTimeout, absoluteTimeout } = this.#config.sessions
    const absoluteExpiresAt = now + absoluteTimeout * 1000
    const claims = verified.token.claims
    const sealed = await this.#sealTokens(tokenSet, now)
    const candidate: SessionRecord = {
      id: newSessionId(now),
      tenantId: this.#config.tenantId,
      userId: claims.sub,
      key: typeof claims.sid === 'string' && claims.sid !== '' ? `sid:${claims.sid}` : null,
      origin: 'login',
      createdAt: now,
      issuedAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(absoluteExpiresAt, now + idleTimeout * 1000),
      absoluteExpiresAt,
      revokedAt: null,
      retainUntil: absoluteExpiresAt,
      claims,
      secretHash: await sha256(secret),
      tokens: sealed,
      meta: { ...userAgentMeta(options.userAgent), ...options.meta },
    }
    let { record, created } = await this.#call(this.#store.create(this.#config.tenantId, candidate))
    if (!created) {
      if (record.userId === claims.sub && isRecordActive(record, now)) {
        // The provider session is already bound here: keep the session, but a new login always gets a new secret.
        const updated = await this.#call(
          this.#store.update(this.#config.tenantId, record.id, {
            secretHash: candidate.secretHash,
            tokens: sealed,
            lastSeenAt: now,
          }),
        )
        if (updated) record = updated
        created = true
      }
      if (!created || record.revokedAt !== null) {
        ;({ record } = await this.#call(
          this.#store.create(this.#config.tenantId, { ...candidate, key: null }),
        ))
      }
    }
    return new CreatedSession(record, secret, this.#sessionCookie(record.id, secret))
  }

  async #get(id: string): Promise<Session | null> {
    if (!isSessionId(id)) return null
    const record = await this.#call(this.#store.get(this.#config.tenantId, id))
    return record ? new Session(record) : null
  }

  #refresh(id: string): Promise<Session> {
    const running = this.#refreshing.get(id)
    if (running) return running
    const work = this.#doRefresh(id).finally(() => this.#refreshing.delete(id))
    this.#refreshing.set(id, work)
    return work
  }

  async #doRefresh(id: string): Promise<Session> {
    const record = isSessionId(id) ? await this.#call(this.#store.get(this.#config.tenantId, id)) : null
    const now = Date.now()
    if (!record || !isRecordActive(record, now)) throw new CoreSDKError('session_not_found')
    let tokens = record.tokens
    const refresher = this.#config.sessions.tokenRefresher
    const held = await this.#openTokens(record.tokens)
    if (refresher && held?.refreshToken) {
      let next: TokenSet
      try {
        next = await refresher.refresh(held.refreshToken, record)
      } catch (error) {
        const failure = CoreSDKError.from(error, 'refresh_failed')
        if (failure.code === 'refresh_token_invalid') await this.#revoke(id)
        throw failure
      }
      tokens = await this.#sealTokens(
        { ...next, refresh_token: next.refresh_token ?? held.refreshToken },
        now,
      )
    }
    const expiresAt = Math.min(record.absoluteExpiresAt, now + this.#config.sessions.idleTimeout * 1000)
    const updated = await this.#call(
      this.#store.update(this.#config.tenantId, id, { lastSeenAt: now, expiresAt, tokens }),
    )
    if (!updated) throw new CoreSDKError('session_not_found')
    return new Session(updated)
  }

  async #revoke(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false
    const record = await this.#call(this.#store.revoke(this.#config.tenantId, id, Date.now()))
    if (record) this.#known.remember(record)
    return record !== null
  }

  async #revokeAll(userId: string): Promise<number> {
    if (typeof userId !== 'string' || userId === '')
      throw new CoreSDKError('invalid_request', 'revokeAllForUser() takes a user id.')
    const at = Date.now()
    const retainFor = Math.max(this.#config.sessions.absoluteTimeout * 1000, DAY)
    const revoked = await this.#call(
      this.#store.revokeAllForUser(this.#config.tenantId, userId, at, retainFor),
    )
    this.#known.apply({ kind: 'user', tenantId: this.#config.tenantId, userId, at })
    return revoked.length
  }

  async #list(userId: string, options: ListSessionsOptions = {}): Promise<Session[]> {
    if (typeof userId !== 'string' || userId === '') return []
    const records = await this.#call(this.#store.listForUser(this.#config.tenantId, userId))
    const now = Date.now()
    return records.filter((r) => options.includeInactive || isRecordActive(r, now)).map((r) => new Session(r))
  }

  async #getTokens(id: string): Promise<SessionTokens | null> {
    if (!isSessionId(id)) return null
    const record = await this.#call(this.#store.get(this.#config.tenantId, id))
    return record ? this.#openTokens(record.tokens) : null
  }

  // ---- Helpers ------------------------------------------------------------------------------------------

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
    return this.#sealer.seal(JSON.stringify(tokens))
  }

  async #openTokens(sealed: string | null): Promise<SessionTokens | null> {
    if (sealed === null) return null
    const plain = await this.#sealer.open(sealed)
    return plain === null ? null : (JSON.parse(plain) as SessionTokens)
  }

  #call<T>(operation: Promise<T>): Promise<T> {
    return withDeadline(operation, this.#config.sessions.storeTimeout)
  }

  #problemFromFailure(error: unknown): HttpProblem {
    const failure = CoreSDKError.from(error)
    return problemFor(failure.code, this.#realm)
  }

  #sessionCookie(id: string, secret: string): string {
    const c = this.#config.sessions.cookie
    return serializeCookie(c.name, `${id}.${secret}`, {
      httpOnly: true,
      secure: c.secure,
      sameSite: c.sameSite,
      path: c.path,
      domain: c.domain,
      maxAge: this.#config.sessions.absoluteTimeout,
    })
  }

  #clearCookie(): string {
    const c = this.#config.sessions.cookie
    return serializeCookie(c.name, '', {
      httpOnly: true,
      secure: c.secure,
      sameSite: c.sameSite,
      path: c.path,
      domain: c.domain,
      maxAge: 0,
      expires: new Date(0),
    })
  }
}

function userAgentMeta(userAgent: string | null | undefined): Record<string, string> {
  return typeof userAgent === 'string' && userAgent !== '' ? { userAgent: userAgent.slice(0, 256) } : {}
}
