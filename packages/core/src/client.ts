import { serialize as serializeCookie } from 'cookie'
import type { Backend, BackendAnswer } from './backend.ts'
import { type ClientConfig, clientConfigOf } from './client-config.ts'
import { type ResolvedConfig, resolveConfig, type SDKConfig } from './config.ts'
import { plainBearer, readCredential } from './credentials.ts'
import { isIdentifier, isSessionId } from './crypto.ts'
import type {
  AuthApi,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  CreateSessionOptions,
  ListSessionsOptions,
  LogoutRequest,
  LogoutResult,
  RevokeOptions,
  SessionsApi,
} from './engine.ts'
import { CoreSDKError, type CoreSDKErrorCode, problemFor, problemForReason } from './errors.ts'
import {
  type EventActor,
  isEventActor,
  LifecycleEmitter,
  type LifecycleEventType,
  type LifecycleListener,
} from './events.ts'
import { LocalBackend } from './local-backend.ts'
import { createRbac, type RbacApi } from './rbac.ts'
import { RevocationMemory } from './revocation-memory.ts'
import { CreatedSession, Session } from './session.ts'
import { SidecarBackend } from './sidecar-backend.ts'
import { storeKindOf, Telemetry } from './telemetry.ts'
import type { AuthDecision, HttpProblem, SessionRecord, SessionTokens, TokenSet } from './types.ts'
import {
  authorizeToken,
  deniedDecision,
  issuedAtOf,
  sessionKey,
  TokenVerifier,
  type VerifiedToken,
} from './verify-token.ts'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')
// Shared by every result that sets no cookie; frozen, so no caller can add one to all of them.
const NO_COOKIES = Object.freeze([]) as unknown as string[]
const ANONYMOUS: AuthenticateResult = Object.freeze({
  ok: true,
  user: null,
  session: null,
  degraded: false,
  via: null,
  setCookie: NO_COOKIES,
})

/** Whether a store or sidecar failure means "unreachable", the only failure `failMode: 'open'` applies to. */
function isUnreachable(code: CoreSDKErrorCode): boolean {
  return code === 'store_unavailable' || code === 'sidecar_unavailable'
}

/** The actor a revoking call names; anything else than an {@link EventActor} is refused. */
function actorOf(options: RevokeOptions | undefined): EventActor {
  const actor = options?.actor
  if (actor === undefined) return 'service'
  if (!isEventActor(actor))
    throw new CoreSDKError(
      'invalid_request',
      "The actor option accepts 'user', 'admin', 'idp', 'service' or 'system'.",
    )
  return actor
}

/** Whether the configuration can verify tokens here (in sidecar mode, for `failMode: 'open'` while it is away). */
function hasLocalJwt(config: ResolvedConfig): boolean {
  const jwt = config.jwt
  if (jwt.algorithms.length === 0 || jwt.issuer.length === 0 || jwt.audience.length === 0) return false
  const hmac = jwt.algorithms.some((alg) => alg.startsWith('HS'))
  return hmac ? jwt.secret !== undefined : jwt.jwksUri !== undefined || jwt.publicKeys.length > 0
}

/** The pipeline of {@link CoreSDKClient.authenticate}, for core's adapter kit: an answer without a promise when warm. */
export let authenticateNow: (
  client: CoreSDKClient,
  request: AuthenticateRequest,
  options?: AuthenticateOptions,
) => AuthenticateResult | Promise<AuthenticateResult>

/**
 * The CoreSDK client: token verification, sessions and the request pipeline every adapter calls.
 * Create one per service and pass it to the adapters.
 *
 * It is the one pipeline of both modes: credentials are read, arguments checked, `failMode` applied, known
 * revocations enforced and problems built here, over a backend that is either this process's session store
 * (`mode: 'embedded'`) or a CoreSDK sidecar (`mode: 'sidecar'`).
 * @example
 * const sdk = new CoreSDKClient({
 *   tenantId: 'acme',
 *   serviceName: 'my-api',
 *   jwt: { issuer: 'https://id.example.com/', audience: 'my-api', algorithms: ['RS256'], jwksUri: 'https://id.example.com/jwks' },
 * })
 * app.use(coreSdkMiddleware(sdk))
 */
export class CoreSDKClient {
  /** The configuration after defaults and `CORESDK_*` environment variables were applied: frozen, without secrets. */
  readonly config: ClientConfig
  // The full configuration, secrets included: only this client and its backend read it.
  readonly #config: ResolvedConfig
  readonly #backend: Backend
  readonly #verifier: TokenVerifier | null
  readonly #known = new RevocationMemory()
  readonly #realm: { realm: string }
  readonly #rbac: RbacApi
  readonly #auth: AuthApi
  readonly #sessions: SessionsApi
  readonly #unsubscribe: (() => void) | undefined
  readonly #events = new LifecycleEmitter()
  // Whether the last request that reached for the backend passed degraded: `auth.degraded` is reported once per spell.
  #degraded = false
  readonly #telemetry: Telemetry | null
  // The last answer given for each session record, reused while the record and the claims stay the same objects
  // (a cached record, a cached verification): a warm request allocates no result and no Session.
  readonly #answers = new WeakMap<SessionRecord, AuthenticateResult>()

  static {
    authenticateNow = (client, request, options) => client.#run(request, options)
  }

  /** Throws a `CoreSDKError` (`invalid_config`) naming the setting when a value is missing or invalid. */
  constructor(config: SDKConfig = {}) {
    const resolved = resolveConfig(config)
    this.#config = resolved
    this.config = clientConfigOf(resolved)
    this.#realm = { realm: resolved.serviceName }
    this.#rbac = createRbac(resolved.rbac.rolesClaim, resolved.serviceName)
    const local = resolved.mode === 'embedded'
    const telemetry =
      config.telemetry === undefined
        ? null
        : new Telemetry(
            config.telemetry,
            resolved.mode,
            local ? storeKindOf(resolved.sessions.store) : 'sidecar',
          )
    this.#telemetry = telemetry
    this.#verifier =
      local || hasLocalJwt(resolved) ? new TokenVerifier(resolved.jwt, resolved.tenantId, telemetry) : null
    this.#backend = local
      ? new LocalBackend(resolved, this.#verifier!, this.#events, telemetry)
      : new SidecarBackend(resolved, this.#events)
    this.#unsubscribe = this.#backend.onRevocation(
      telemetry === null
        ? (event) => this.#known.apply(event)
        : (event) => {
            this.#known.apply(event)
            telemetry.revocationApplied(event)
          },
    )
    this.#auth = { authorize: (request) => this.#authorize(request?.token) }
    this.#sessions = {
      create: (tokenSet, options) => this.#create(tokenSet, options),
      get: (id) => this.#get(id),
      refresh: (id) => this.#refresh(id),
      revoke: async (id, options) => this.#revoke(id, actorOf(options)),
      revokeAllForUser: async (userId, options) => this.#revokeAll(userId, actorOf(options)),
      revokeForUser: async (userId, options) => this.#revokeAll(userId, actorOf(options)),
      revokeOthersForUser: async (userId, keep, options) =>
        this.#revokeOthers(userId, keep, actorOf(options)),
      listForUser: (userId, options) => this.#list(userId, options),
      getTokens: (id) => this.#getTokens(id),
      findByProviderSession: (sid) => this.#findByProviderSession(sid),
      claimOnce: (key, expiresAt) => this.#claimOnce(key, expiresAt),
    }
  }

  /** Token verification (Phase 1). */
  auth(): AuthApi {
    return this.#auth
  }

  /** Server-side sessions (Phase 2). */
  sessions(): SessionsApi {
    return this.#sessions
  }

  /** Role checks on the authenticated user (RBAC). */
  rbac(): RbacApi {
    return this.#rbac
  }

  /**
   * Subscribes to a lifecycle event; returns the unsubscribe function. Each change is reported once, by the client
   * whose call (or request) made it, in both modes; listeners run after the change, on a microtask, and what they
   * throw or return is ignored. No event holds a token, a secret or a claim value other than the user id.
   * @example
   * const off = sdk.on('session.revoked', (event) => audit.write(event))
   */
  on<T extends LifecycleEventType>(type: T, listener: LifecycleListener<T>): () => void {
    if (typeof listener !== 'function')
      throw new CoreSDKError('invalid_request', 'on() takes an event name and a listener function.')
    return this.#events.on(type, listener)
  }

  /** What `console.log` and `util.inspect` show: the client's identity, never its secrets. */
  [INSPECT](): string {
    const { tenantId, serviceName, mode } = this.config
    return `CoreSDKClient ${JSON.stringify({ tenantId, serviceName, mode })}`
  }

  /** Stops timers and closes the store (or forgets the sidecar cache). */
  async close(): Promise<void> {
    this.#unsubscribe?.()
    this.#events.clear()
    this.#telemetry?.close()
    this.#verifier?.close()
    await this.#backend.close()
  }

  // ---- The request pipeline -----------------------------------------------------------------------------

  /**
   * The request pipeline: extract the bearer token or session cookie, verify it, map it to its session, apply
   * `failMode` when the store is unreachable. Never throws; every failure is a problem to answer with.
   */
  async authenticate(
    request: AuthenticateRequest,
    options?: AuthenticateOptions,
  ): Promise<AuthenticateResult> {
    return this.#run(request, options)
  }

  /** {@link CoreSDKClient.authenticate}, answering without a promise when everything it needs is at hand. */
  #run(
    request: AuthenticateRequest,
    options?: AuthenticateOptions,
  ): AuthenticateResult | Promise<AuthenticateResult> {
    const telemetry = this.#telemetry
    if (telemetry === null) return this.#decide(request, options)
    let warm: AuthenticateResult | undefined
    try {
      warm = this.#warm(request)
    } catch (error) {
      warm = this.#fault(error)
    }
    if (warm !== undefined) return telemetry.decided(warm)
    // Not warm: the whole pipeline runs again under its span (the warm check is one cache lookup).
    return telemetry.authenticate(async () => this.#decide(request, options))
  }

  /** The answer of the warm path when the request is a bearer token it can answer; undefined otherwise. */
  #warm(request: AuthenticateRequest): AuthenticateResult | undefined {
    if (typeof request.authorization !== 'string') return undefined
    const token = plainBearer(request.authorization)
    return token === undefined ? undefined : this.#bearerNow(token)
  }

  #decide(
    request: AuthenticateRequest,
    options?: AuthenticateOptions,
  ): AuthenticateResult | Promise<AuthenticateResult> {
    try {
      const warm = this.#warm(request)
      if (warm !== undefined) return warm
      const credential = readCredential(request, this.#config.sessions.cookie.name)
      switch (credential.kind) {
        case 'none':
          if (options?.optional) return ANONYMOUS
          return this.#refuse(problemFor('missing_credentials', this.#realm))
        case 'malformed':
          return this.#refuse(problemFor('invalid_request', this.#realm))
        case 'bad_cookie':
          return this.#refuse(problemFor('invalid_token', this.#realm), true)
        case 'bearer':
          return this.#bearerNow(credential.token) ?? this.#never(this.#bearer(credential.token, request))
        case 'cookie':
          return this.#never(this.#cookies(credential.candidates))
      }
    } catch (error) {
      return this.#fault(error)
    }
  }

  #fault(error: unknown): AuthenticateResult {
    return this.#refuse(problemFor(CoreSDKError.from(error).code, this.#realm))
  }

  /** The pipeline never rejects: anything thrown on the way is its problem. */
  #never(answer: Promise<AuthenticateResult>): Promise<AuthenticateResult> {
    return answer.then(undefined, (error: unknown) => this.#fault(error))
  }

  /**
   * The warm path of a bearer token, without a promise: a token verified before, which this instance does not know
   * revoked, whose session the backend holds here. Undefined when any of it is missing: {@link #bearer} then runs.
   */
  #bearerNow(token: string): AuthenticateResult | undefined {
    const backend = this.#backend
    if (!backend.verifiesLocally || backend.bearerNow === undefined) return undefined
    // One clock reading for the whole warm path (each costs tens of nanoseconds).
    const now = Date.now()
    const verified = this.#verifier!.peek(token, now)
    if (verified === undefined) return undefined
    const known = this.#knownRevoked(token, verified, now)
    if (known === true) return this.#refuse(problemFor('invalid_token', this.#realm))
    if (known !== false) return undefined
    const answer = backend.bearerNow(verified, now)
    if (answer === undefined) return undefined
    return this.#settleBearer(answer, verified, now)
  }

  async #bearer(token: string, request: AuthenticateRequest): Promise<AuthenticateResult> {
    let verified: VerifiedToken | null = null
    if (this.#backend.verifiesLocally) {
      const result = await this.#verifier!.verify(token)
      if (!result.ok) return this.#refuse(problemForReason(result.reason, this.#realm))
      verified = result.token
      // Awaited only when it is a promise: an await of a plain value still costs a turn on every request.
      const known = this.#knownRevoked(token, verified)
      if (known === true || (known !== false && (await known)))
        return this.#refuse(problemFor('invalid_token', this.#realm))
    }
    let answer: BackendAnswer
    try {
      answer = await this.#backend.bearer({ token, verified, hints: request })
    } catch (error) {
      return this.#failed(error, token, verified)
    }
    this.#degraded = false
    this.#telemetry?.reachable()
    return this.#settleBearer(answer, verified)
  }

  #settleBearer(answer: BackendAnswer, verified: VerifiedToken | null, now?: number): AuthenticateResult {
    if (!answer.ok || answer.record === null) return this.#settle(answer, false)
    // The user's revoke-all cutoff compares with this token's issue time, not the session's first token's.
    return this.#settle(
      answer,
      false,
      verified?.issuedAt ?? issuedAtOf(answer.user, this.#config.jwt.clockTolerance),
      now,
    )
  }

  /**
   * Tries each session cookie in turn. With siblings (one a subdomain planted), a bad one never clears the cookie:
   * the clearing `Set-Cookie` could end the valid session it sits beside.
   */
  async #cookies(candidates: ReadonlyArray<{ id: string; secret: string }>): Promise<AuthenticateResult> {
    if (candidates.length === 1) return this.#cookie(candidates[0]!.id, candidates[0]!.secret)
    let refused: AuthenticateResult | undefined
    for (const { id, secret } of candidates) {
      const result = await this.#cookie(id, secret)
      if (result.ok) return result
      refused ??= result
      // A store that cannot answer fails every sibling alike.
      if (result.problem.status === 503) break
    }
    return refused!.ok ? refused! : { ok: false, problem: refused!.problem, setCookie: NO_COOKIES }
  }

  async #cookie(id: string, secret: string): Promise<AuthenticateResult> {
    let answer: BackendAnswer
    try {
      answer = await this.#backend.cookie(id, secret)
    } catch (error) {
      // A cookie session has nothing to verify without its store: it never passes degraded.
      return this.#refuse(problemFor(this.#failureCode(error), this.#realm))
    }
    this.#degraded = false
    this.#telemetry?.reachable()
    return this.#settle(answer, true)
  }

  /** Applies a backend's answer, after checking it against the revocations this instance knows. */
  #settle(answer: BackendAnswer, cookie: boolean, issuedAt?: number, now?: number): AuthenticateResult {
    if (!answer.ok) {
      if (answer.record !== null) this.#known.remember(answer.record)
      return this.#refuse(problemFor(answer.code, this.#realm), answer.clearCookie)
    }
    const record = answer.record
    if (
      record !== null &&
      this.#known.rejects(record.key, record.id, record.userId, issuedAt ?? record.issuedAt, now)
    ) {
      return this.#refuse(problemFor('invalid_token', this.#realm), cookie)
    }
    const via = cookie ? 'cookie' : 'bearer'
    if (record === null || answer.degraded)
      return {
        ok: true,
        user: answer.user,
        session: null,
        degraded: answer.degraded,
        via,
        setCookie: NO_COOKIES,
      }
    const last = this.#answers.get(record)
    if (last?.ok && last.user === answer.user && last.via === via) return last
    const result: AuthenticateResult = Object.freeze({
      ok: true,
      user: answer.user,
      session: Object.freeze(new Session(record)) as Session,
      degraded: false,
      via,
      setCookie: NO_COOKIES,
    })
    this.#answers.set(record, result)
    return result
  }

  /** The backend failed: `failMode` decides, but only when it is unreachable; any other failure fails closed. */
  async #failed(error: unknown, token: string, verified: VerifiedToken | null): Promise<AuthenticateResult> {
    const code = this.#failureCode(error)
    if (!isUnreachable(code) || this.#config.failMode === 'closed' || this.#verifier === null)
      return this.#refuse(problemFor(code, this.#realm))
    if (verified === null) {
      const result = await this.#verifier.verify(token)
      if (!result.ok) return this.#refuse(problemForReason(result.reason, this.#realm))
      verified = result.token
      if (await this.#knownRevoked(token, verified))
        return this.#refuse(problemFor('invalid_token', this.#realm))
    }
    // Fail open: the signature and claims are verified; what this instance knows of revocations still holds.
    this.#failOpen(code)
    this.#telemetry?.failedOpen()
    return {
      ok: true,
      user: verified.claims,
      session: null,
      degraded: true,
      via: 'bearer',
      setCookie: NO_COOKIES,
    }
  }

  /** Reports the first request of a spell that passes degraded; the next backend answer ends the spell. */
  #failOpen(code: CoreSDKErrorCode): void {
    if (this.#degraded) return
    this.#degraded = true
    this.#events.emit({
      type: 'auth.degraded',
      at: Date.now(),
      tenantId: this.#config.tenantId,
      actor: 'system',
      reason: code === 'sidecar_unavailable' ? 'sidecar_unavailable' : 'store_unavailable',
    })
  }

  #failureCode(error: unknown): CoreSDKErrorCode {
    return CoreSDKError.from(error).code
  }

  /** Whether this instance knows the token revoked; a promise only when the token's own hash must be computed. */
  #knownRevoked(token: string, verified: VerifiedToken, now?: number): boolean | Promise<boolean> {
    const { sub } = verified.claims
    // The token's own hash is only worth computing once some token key was revoked.
    if (verified.key === null && this.#known.holdsKeys)
      return sessionKey(token, verified).then((key) => this.#known.rejects(key, null, sub, verified.issuedAt))
    return this.#known.rejects(verified.key, null, sub, verified.issuedAt, now)
  }

  #refuse(problem: HttpProblem, clearCookie = false): AuthenticateResult {
    return { ok: false, problem, setCookie: clearCookie ? [this.#clearCookie()] : NO_COOKIES }
  }

  /**
   * Revokes the current session (all the user's with `everywhere`, all but the current one with `others`) and returns
   * the cookie-clearing headers (none with `others`: the current session stays).
   */
  logout(request: LogoutRequest): Promise<LogoutResult> {
    const telemetry = this.#telemetry
    if (telemetry === null) return this.#logout(request)
    return telemetry.span(
      'coresdk.logout',
      () => this.#logout(request),
      (result) => ({
        'coresdk.logout.everywhere': request.everywhere === true,
        'coresdk.logout.revoked': result.revoked,
      }),
    )
  }

  async #logout(request: LogoutRequest): Promise<LogoutResult> {
    let revoked = 0
    const userId = request.user?.sub ?? request.session?.userId
    if (request.others) {
      if (request.everywhere)
        throw new CoreSDKError('invalid_request', 'logout() takes either `everywhere` or `others`, not both.')
      if (request.session && userId)
        return {
          revoked: await this.#revokeOthers(userId, request.session.id, 'user'),
          setCookie: NO_COOKIES,
        }
      if (request.degraded) await this.#backend.degradedLogout()
      throw new CoreSDKError('invalid_request', 'logout({ others: true }) needs the request’s session.')
    }
    if (request.everywhere && userId) revoked = await this.#revokeAll(userId, 'user')
    else if (request.session) revoked = (await this.#revoke(request.session.id, 'user')) ? 1 : 0
    // The session of a degraded request is unknown: nothing can be revoked, and a logout never reports success then.
    else if (request.degraded) await this.#backend.degradedLogout()
    return { revoked, setCookie: [this.#clearCookie()] }
  }

  // ---- Phase 1 ------------------------------------------------------------------------------------------

  async #authorize(token: string | null | undefined): Promise<AuthDecision> {
    if (typeof token !== 'string' || token === '') return deniedDecision('missing_token', this.#realm)
    try {
      return await this.#backend.authorize(token)
    } catch (error) {
      const code = this.#failureCode(error)
      if (!isUnreachable(code)) throw CoreSDKError.from(error)
      if (this.#config.failMode === 'open' && this.#verifier !== null) {
        this.#failOpen(code)
        return authorizeToken(this.#verifier, token, this.#realm)
      }
      // Nothing could check the token: the same 503 an unreachable key source gives.
      return {
        allowed: false,
        claims: null,
        reason: 'key_source_unavailable',
        problem: problemFor(code, this.#realm),
      }
    }
  }

  // ---- Sessions -----------------------------------------------------------------------------------------

  async #create(tokenSet: TokenSet, options: CreateSessionOptions = {}): Promise<CreatedSession> {
    if (tokenSet === null || typeof tokenSet !== 'object')
      throw new CoreSDKError('invalid_request', 'sessions().create() takes an OAuth token set.')
    const idToken = typeof tokenSet.id_token === 'string' ? tokenSet.id_token : undefined
    const token = idToken ?? (typeof tokenSet.access_token === 'string' ? tokenSet.access_token : undefined)
    if (!token)
      throw new CoreSDKError('invalid_request', 'The token set has neither an id_token nor an access_token.')
    if (options.persistent !== undefined && typeof options.persistent !== 'boolean')
      throw new CoreSDKError('invalid_request', 'sessions().create() takes persistent as true or false.')
    let verified: VerifiedToken | null = null
    if (this.#backend.verifiesLocally) {
      const result = await this.#verifier!.verify(token, { kind: idToken ? 'id_token' : 'access_token' })
      if (!result.ok) throw new CoreSDKError(problemForReason(result.reason).body.code as CoreSDKErrorCode)
      verified = result.token
      // A login with a token this instance knows revoked is refused exactly as a request carrying it would be.
      if (await this.#knownRevoked(token, verified)) throw new CoreSDKError('invalid_token')
    }
    const created = await this.#backend.create(tokenSet, verified, options)
    return new CreatedSession(created.record, created.secret, created.setCookie)
  }

  async #get(id: string): Promise<Session | null> {
    if (!isSessionId(id)) return null
    const record = await this.#backend.get(id)
    return record === null ? null : new Session(record)
  }

  async #refresh(id: string): Promise<Session> {
    if (!isSessionId(id)) throw new CoreSDKError('session_not_found')
    const refresh = () => this.#backend.refresh(id)
    const telemetry = this.#telemetry
    return new Session(await (telemetry === null ? refresh() : telemetry.span('coresdk.refresh', refresh)))
  }

  async #revoke(id: string, actor: EventActor): Promise<boolean> {
    if (!isSessionId(id)) return false
    const record = await this.#backend.revoke(id, actor)
    if (record === null) return false
    this.#known.remember({ ...record, revokedAt: record.revokedAt ?? Date.now() })
    return true
  }

  async #revokeAll(userId: string, actor: EventActor): Promise<number> {
    if (!isIdentifier(userId))
      throw new CoreSDKError('invalid_request', 'revokeAllForUser() takes a user id.')
    const { revoked, at } = await this.#backend.revokeAll(userId, actor)
    this.#known.apply({ kind: 'user', tenantId: this.#config.tenantId, userId, at })
    return revoked
  }

  async #revokeOthers(userId: string, keepId: string, actor: EventActor): Promise<number> {
    if (!isIdentifier(userId) || typeof keepId !== 'string')
      throw new CoreSDKError('invalid_request', 'revokeOthersForUser() takes a user id and a session id.')
    // The kept session must be the user's: otherwise the call would revoke every session of the user.
    const kept = isSessionId(keepId) ? await this.#backend.get(keepId) : null
    if (kept === null || kept.userId !== userId)
      throw new CoreSDKError(
        'invalid_request',
        'revokeOthersForUser(): the session to keep is not one of the user’s.',
      )
    const ids = await this.#backend.revokeOthers(userId, keepId, actor)
    const tenantId = this.#config.tenantId
    const at = Date.now()
    for (const sessionId of ids)
      this.#known.apply({ kind: 'session', tenantId, sessionId, key: null, userId, at })
    return ids.length
  }

  async #list(userId: string, options: ListSessionsOptions = {}): Promise<Session[]> {
    if (!isIdentifier(userId)) return []
    const records = await this.#backend.list(userId, options.includeInactive === true)
    return records.map((record) => new Session(record))
  }

  async #getTokens(id: string): Promise<SessionTokens | null> {
    if (!isSessionId(id)) return null
    return this.#backend.tokens(id)
  }

  async #findByProviderSession(sid: string): Promise<Session | null> {
    if (!isIdentifier(sid)) return null
    const record = await this.#backend.providerSession(sid)
    return record === null ? null : new Session(record)
  }

  async #claimOnce(key: string, expiresAt: number): Promise<boolean> {
    if (!isIdentifier(key) || key.length > 512 || !Number.isFinite(expiresAt))
      throw new CoreSDKError('invalid_request', 'claimOnce() takes a key of 1 to 512 characters and a time.')
    return this.#backend.claimOnce(key, expiresAt)
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
