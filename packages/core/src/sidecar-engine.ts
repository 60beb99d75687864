import { parse as parseCookie } from 'cookie'
import type { ResolvedConfig } from './config.ts'
import { isSessionId } from './crypto.ts'
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
import { CoreSDKError, isErrorCode, problemFor, problemForReason } from './errors.ts'
import { CreatedSession, Session } from './session.ts'
import type {
  AuthDecision,
  AuthReason,
  Claims,
  HttpProblem,
  SessionRecord,
  SessionTokens,
  TokenSet,
} from './types.ts'
import { authorizeToken, deniedDecision, TokenVerifier } from './verify-token.ts'

/** The header that carries the sidecar's shared secret (the user's own credential travels in the JSON body). */
export const SIDECAR_KEY_HEADER = 'x-coresdk-sidecar-key'
/** The header naming the tenant the client serves; the sidecar refuses it (403) when the key is not that tenant's. */
export const SIDECAR_TENANT_HEADER = 'x-coresdk-tenant'

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
const CACHE_CAPACITY = 10_000
const MEMORY_CAPACITY = 100_000

const REASONS: ReadonlySet<string> = new Set<AuthReason>([
  'missing_token',
  'token_too_large',
  'malformed',
  'unsupported_algorithm',
  'invalid_signature',
  'unknown_key',
  'invalid_claims',
  'expired',
  'not_yet_valid',
  'key_source_unavailable',
  'revoked',
])

/** A session as the sidecar sends it: `Session.toJSON()` plus `absoluteExpiresAt` and the claims. */
interface WireSession {
  id: string
  userId: string
  tenantId: string
  origin: 'token' | 'login'
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  absoluteExpiresAt: string
  revokedAt: string | null
  claims: Claims
  meta?: Record<string, string>
}

function time(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw unreadable()
  return ms
}

function unreadable(): CoreSDKError {
  return new CoreSDKError('sidecar_unavailable', 'The sidecar sent an answer this client cannot read.')
}

/** Rebuilds the record behind a wire session; the secret parts (hash, tokens, key) never leave the sidecar. */
function recordOf(value: unknown): SessionRecord {
  const wire = value as WireSession
  if (wire === null || typeof wire !== 'object' || !isSessionId(wire.id) || typeof wire.userId !== 'string')
    throw unreadable()
  const createdAt = time(wire.createdAt)
  const absoluteExpiresAt = time(wire.absoluteExpiresAt)
  return {
    id: wire.id,
    tenantId: String(wire.tenantId),
    userId: wire.userId,
    key: null,
    origin: wire.origin === 'login' ? 'login' : 'token',
    createdAt,
    issuedAt: createdAt,
    lastSeenAt: time(wire.lastSeenAt),
    expiresAt: time(wire.expiresAt),
    absoluteExpiresAt,
    revokedAt: wire.revokedAt === null ? null : time(wire.revokedAt),
    retainUntil: absoluteExpiresAt,
    claims: (wire.claims ?? { sub: wire.userId }) as Claims,
    secretHash: null,
    tokens: null,
    meta: wire.meta && typeof wire.meta === 'object' ? wire.meta : {},
  }
}

function issuedAtOf(claims: Claims): number {
  if (typeof claims.iat === 'number') return claims.iat * 1000
  return typeof claims.nbf === 'number' ? claims.nbf * 1000 : 0
}

type Answer = { status: number; data: unknown }
type Positive = Extract<AuthenticateResult, { ok: true }>
type CacheEntry = { result: Positive; until: number }

/**
 * The engine reached over HTTP at `sidecarAddr`: the same API as the embedded engine, answered by a CoreSDK
 * sidecar. Positive `authenticate` results are reused for `sidecar.cacheTtl` ms; when the sidecar is unreachable
 * or late, `failMode: 'open'` lets a token through (degraded) only if it verifies against a local `jwt` config.
 */
export class SidecarEngine implements Engine {
  readonly auth: AuthApi
  readonly sessions: SessionsApi
  readonly #config: ResolvedConfig
  readonly #base: string
  readonly #headers: Record<string, string>
  readonly #realm: { realm: string }
  readonly #verifier: TokenVerifier | null
  readonly #cache = new Map<string, CacheEntry>()
  /** Credential → the session the sidecar last mapped it to, kept so known revocations hold while degraded. */
  readonly #seen = new Map<string, { sessionId: string; userId: string }>()
  readonly #revokedSessions = new Set<string>()
  readonly #revokedUsers = new Map<string, number>()

  constructor(config: ResolvedConfig) {
    this.#config = config
    this.#base = config.sidecarAddr.replace(/\/+$/, '')
    this.#headers = { accept: 'application/json', [SIDECAR_TENANT_HEADER]: config.tenantId }
    if (config.sidecarSecret !== undefined) this.#headers[SIDECAR_KEY_HEADER] = config.sidecarSecret
    this.#realm = { realm: config.serviceName }
    this.#verifier = hasLocalJwt(config) ? new TokenVerifier(config.jwt, config.tenantId) : null
    this.auth = { authorize: (request) => this.#authorize(request?.token) }
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
    this.#verifier?.close()
    this.#cache.clear()
    this.#seen.clear()
  }

  // ---- The request pipeline -----------------------------------------------------------------------------

  async authenticate(
    request: AuthenticateRequest,
    options: AuthenticateOptions = {},
  ): Promise<AuthenticateResult> {
    const credential = this.#credentialKey(request)
    if (credential === null) {
      if (options.optional) return { ok: true, user: null, session: null, degraded: false, setCookie: [] }
      return { ok: false, problem: problemFor('missing_credentials', this.#realm), setCookie: [] }
    }
    const now = Date.now()
    const cached = this.#cache.get(credential)
    if (cached !== undefined) {
      if (cached.until > now) return { ...cached.result, setCookie: [] }
      this.#cache.delete(credential)
    }
    let answer: Answer
    try {
      answer = await this.#send('POST', '/v1/authenticate', {
        authorization: request.authorization ?? null,
        cookie: request.cookie ?? null,
        userAgent: request.userAgent ?? null,
        optional: options.optional === true,
      })
      this.#expect(answer, 200)
    } catch (error) {
      const failure = CoreSDKError.from(error)
      if (failure.code === 'sidecar_unavailable') return this.#unavailable(request, credential)
      return { ok: false, problem: problemFor(failure.code, this.#realm), setCookie: [] }
    }
    try {
      return this.#readResult(answer.data, credential)
    } catch (error) {
      return { ok: false, problem: problemFor(CoreSDKError.from(error).code, this.#realm), setCookie: [] }
    }
  }

  /** A key for the credential of a request (never sent anywhere), or null when it carries none. */
  #credentialKey(request: AuthenticateRequest): string | null {
    const authorization = request.authorization
    if (
      authorization !== undefined &&
      authorization !== null &&
      !(Array.isArray(authorization) && authorization.length === 0)
    ) {
      return `a\n${Array.isArray(authorization) ? authorization.join('\n') : authorization}`
    }
    const header = Array.isArray(request.cookie) ? request.cookie.join('; ') : request.cookie
    if (typeof header !== 'string' || header === '') return null
    const value = parseCookie(header)[this.#config.sessions.cookie.name]
    return value === undefined || value === '' ? null : `c\n${value}`
  }

  #readResult(data: unknown, credential: string): AuthenticateResult {
    const body = data as Record<string, unknown>
    if (body === null || typeof body !== 'object' || typeof body.ok !== 'boolean') throw unreadable()
    const setCookie = Array.isArray(body.setCookie)
      ? body.setCookie.filter((c): c is string => typeof c === 'string')
      : []
    if (!body.ok) {
      const seen = this.#seen.get(credential)
      if (seen !== undefined) {
        // The sidecar refused a credential it once accepted: its session ended; keep that known while degraded.
        this.#remember(this.#revokedSessions, seen.sessionId)
        this.#seen.delete(credential)
      }
      return { ok: false, problem: this.#problemOf(body.problem), setCookie }
    }
    const user = (body.user ?? null) as Claims | null
    const session =
      body.session === null || body.session === undefined ? null : new Session(recordOf(body.session))
    const result: Positive = { ok: true, user, session, degraded: body.degraded === true, setCookie }
    if (session !== null && !result.degraded) {
      this.#remember(
        this.#seen,
        credential,
        { sessionId: session.id, userId: session.userId },
        CACHE_CAPACITY,
      )
      const ttl = this.#config.sidecar.cacheTtl
      if (ttl > 0 && setCookie.length === 0) {
        const now = Date.now()
        const exp = typeof user?.exp === 'number' ? user.exp * 1000 : Number.POSITIVE_INFINITY
        const until = Math.min(now + ttl, +session.expiresAt, +session.absoluteExpiresAt, exp)
        if (until > now) this.#remember(this.#cache, credential, { result, until }, CACHE_CAPACITY)
      }
    }
    return result
  }

  /** The problem for a refusal, rebuilt here so the realm and headers are this service's, as in embedded mode. */
  #problemOf(value: unknown): HttpProblem {
    const code = (value as { body?: { code?: unknown } } | null)?.body?.code
    if (isErrorCode(code)) return problemFor(code, this.#realm)
    return problemFor('internal_error', this.#realm)
  }

  /** The sidecar did not answer in time: apply `failMode`. */
  async #unavailable(request: AuthenticateRequest, credential: string): Promise<AuthenticateResult> {
    const closed: AuthenticateResult = {
      ok: false,
      problem: problemFor('sidecar_unavailable', this.#realm),
      setCookie: [],
    }
    // Without local keys nothing can be verified here, so open degrades to closed; a cookie needs the store anyway.
    if (this.#config.failMode === 'closed' || this.#verifier === null) return closed
    const authorization = Array.isArray(request.authorization)
      ? request.authorization.length === 1
        ? request.authorization[0]
        : undefined
      : request.authorization
    if (typeof authorization !== 'string') return closed
    const match = BEARER.exec(authorization)
    if (!match) return { ok: false, problem: problemFor('invalid_request', this.#realm), setCookie: [] }
    const verified = await this.#verifier.verify(match[1]!)
    if (!verified.ok)
      return { ok: false, problem: problemForReason(verified.reason, this.#realm), setCookie: [] }
    const claims = verified.token.claims
    const seen = this.#seen.get(credential)
    const marker = this.#revokedUsers.get(claims.sub)
    if (
      (seen !== undefined && this.#revokedSessions.has(seen.sessionId)) ||
      (marker !== undefined && issuedAtOf(claims) <= marker)
    ) {
      return { ok: false, problem: problemFor('invalid_token', this.#realm), setCookie: [] }
    }
    return { ok: true, user: claims, session: null, degraded: true, setCookie: [] }
  }

  async logout(request: LogoutRequest): Promise<LogoutResult> {
    const sessionId = request.session?.id ?? null
    const userId = request.user?.sub ?? request.session?.userId ?? null
    // As in the embedded engine: without a user, `everywhere` falls back to the current session.
    const everywhere = request.everywhere === true && userId !== null
    const degraded = request.degraded === true
    const answer = await this.#send('POST', '/v1/logout', { sessionId, userId, everywhere, degraded })
    this.#expect(answer, 200)
    const body = answer.data as { revoked?: unknown; setCookie?: unknown; at?: unknown }
    if (everywhere && userId !== null)
      this.#forgetUser(userId, typeof body.at === 'number' ? body.at : Date.now())
    else if (sessionId !== null) this.#forgetSession(sessionId)
    return {
      revoked: typeof body.revoked === 'number' ? body.revoked : 0,
      setCookie: Array.isArray(body.setCookie)
        ? body.setCookie.filter((c): c is string => typeof c === 'string')
        : [],
    }
  }

  // ---- Phase 1 ------------------------------------------------------------------------------------------

  async #authorize(token: string | null | undefined): Promise<AuthDecision> {
    if (typeof token !== 'string' || token === '') return deniedDecision('missing_token', this.#realm)
    let answer: Answer
    try {
      answer = await this.#send('POST', '/v1/authorize', { token })
      this.#expect(answer, 200)
    } catch (error) {
      const failure = CoreSDKError.from(error)
      if (failure.code !== 'sidecar_unavailable') throw failure
      if (this.#config.failMode === 'open' && this.#verifier !== null)
        return authorizeToken(this.#verifier, token, this.#realm)
      // Nothing could check the token: the same 503 an unreachable key source gives.
      return {
        allowed: false,
        claims: null,
        reason: 'key_source_unavailable',
        problem: problemFor('sidecar_unavailable', this.#realm),
      }
    }
    const decision = answer.data as { allowed?: unknown; claims?: unknown; reason?: unknown }
    if (decision?.allowed === true && decision.claims && typeof decision.claims === 'object') {
      return { allowed: true, claims: decision.claims as Claims, reason: null, problem: null }
    }
    const reason =
      typeof decision?.reason === 'string' && REASONS.has(decision.reason)
        ? (decision.reason as AuthReason)
        : 'malformed'
    return deniedDecision(reason, this.#realm)
  }

  // ---- Sessions -----------------------------------------------------------------------------------------

  async #create(tokenSet: TokenSet, options: CreateSessionOptions = {}): Promise<CreatedSession> {
    if (tokenSet === null || typeof tokenSet !== 'object') {
      throw new CoreSDKError('invalid_request', 'sessions().create() takes an OAuth token set.')
    }
    const answer = await this.#send('POST', '/v1/sessions', {
      tokenSet,
      userAgent: options.userAgent ?? null,
      meta: options.meta ?? {},
    })
    this.#expect(answer, 201)
    const body = answer.data as { session?: unknown; secret?: unknown; setCookie?: unknown }
    if (typeof body?.secret !== 'string' || typeof body.setCookie !== 'string') throw unreadable()
    return new CreatedSession(recordOf(body.session), body.secret, body.setCookie)
  }

  async #get(id: string): Promise<Session | null> {
    if (!isSessionId(id)) return null
    const answer = await this.#send('GET', `/v1/sessions/${id}`)
    if (this.#notFound(answer)) return null
    this.#expect(answer, 200)
    return new Session(recordOf(answer.data))
  }

  async #refresh(id: string): Promise<Session> {
    if (!isSessionId(id)) throw new CoreSDKError('session_not_found')
    const answer = await this.#send('POST', `/v1/sessions/${id}/refresh`)
    this.#expect(answer, 200)
    return new Session(recordOf(answer.data))
  }

  async #revoke(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false
    const answer = await this.#send('DELETE', `/v1/sessions/${id}`)
    if (this.#notFound(answer)) return false
    this.#expect(answer, 200)
    this.#forgetSession(id)
    return true
  }

  async #revokeAll(userId: string): Promise<number> {
    if (typeof userId !== 'string' || userId === '')
      throw new CoreSDKError('invalid_request', 'revokeAllForUser() takes a user id.')
    const answer = await this.#send('POST', `/v1/users/${encodeURIComponent(userId)}/revoke-all`)
    this.#expect(answer, 200)
    const body = answer.data as { revoked?: unknown; at?: unknown }
    this.#forgetUser(userId, typeof body?.at === 'number' ? body.at : Date.now())
    return typeof body?.revoked === 'number' ? body.revoked : 0
  }

  async #list(userId: string, options: ListSessionsOptions = {}): Promise<Session[]> {
    if (typeof userId !== 'string' || userId === '') return []
    const query = options.includeInactive ? '?includeInactive=true' : ''
    const answer = await this.#send('GET', `/v1/users/${encodeURIComponent(userId)}/sessions${query}`)
    this.#expect(answer, 200)
    const sessions = (answer.data as { sessions?: unknown })?.sessions
    if (!Array.isArray(sessions)) throw unreadable()
    return sessions.map((s) => new Session(recordOf(s)))
  }

  async #getTokens(id: string): Promise<SessionTokens | null> {
    if (!isSessionId(id)) return null
    const answer = await this.#send('GET', `/v1/sessions/${id}/tokens`)
    if (this.#notFound(answer)) return null
    this.#expect(answer, 200)
    const tokens = (answer.data as { tokens?: unknown })?.tokens
    return tokens && typeof tokens === 'object' ? (tokens as SessionTokens) : null
  }

  // ---- Revocations made through this client take effect here at once -----------------------------------

  #forgetSession(id: string): void {
    this.#remember(this.#revokedSessions, id)
    for (const [key, entry] of this.#cache) if (entry.result.session?.id === id) this.#cache.delete(key)
  }

  #forgetUser(userId: string, at: number): void {
    this.#remember(this.#revokedUsers, userId, Math.max(at, this.#revokedUsers.get(userId) ?? 0))
    for (const [key, entry] of this.#cache) if (entry.result.user?.sub === userId) this.#cache.delete(key)
  }

  #remember<K, V>(target: Map<K, V> | Set<K>, key: K, value?: V, capacity = MEMORY_CAPACITY): void {
    target.delete(key)
    if (target instanceof Map) target.set(key, value as V)
    else target.add(key)
    if (target.size > capacity) {
      // Insertion order: the first key is the oldest.
      const oldest = target.keys().next()
      if (!oldest.done) target.delete(oldest.value)
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------

  /** One call with the per-call deadline; a broken pooled connection gets one more try within the same deadline. */
  async #send(method: string, path: string, body?: unknown): Promise<Answer> {
    const timeout = this.#config.sidecar.timeout
    const signal = AbortSignal.timeout(timeout)
    const headers =
      body === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/json' }
    const init: RequestInit = { method, headers, signal }
    if (body !== undefined) init.body = JSON.stringify(body)
    let response: Response | undefined
    for (let attempt = 0; response === undefined; attempt++) {
      try {
        response = await fetch(`${this.#base}${path}`, init)
      } catch (error) {
        if (signal.aborted)
          throw new CoreSDKError('sidecar_unavailable', `No answer from the sidecar within ${timeout} ms.`, {
            cause: error,
          })
        if (attempt > 0)
          throw new CoreSDKError('sidecar_unavailable', 'The sidecar could not be reached.', { cause: error })
      }
    }
    let text: string
    try {
      text = await response.text()
    } catch (error) {
      throw new CoreSDKError('sidecar_unavailable', `No answer from the sidecar within ${timeout} ms.`, {
        cause: error,
      })
    }
    let data: unknown = null
    if (text !== '') {
      try {
        data = JSON.parse(text)
      } catch {
        // A proxy's error page or a half-written answer: the sidecar is not there as it should be.
        throw unreadable()
      }
    }
    return { status: response.status, data }
  }

  #notFound(answer: Answer): boolean {
    return answer.status === 404 && (answer.data as { code?: unknown } | null)?.code === 'session_not_found'
  }

  /** Passes an answer with the expected status; turns any other into the matching CoreSDKError. */
  #expect(answer: Answer, status: number): void {
    if (answer.status === status) return
    const code = (answer.data as { code?: unknown } | null)?.code
    if (code === 'sidecar_unauthorized') {
      throw new CoreSDKError(
        'invalid_config',
        'The sidecar refused this client: check CORESDK_SIDECAR_SECRET (sidecarSecret).',
      )
    }
    if (code === 'tenant_forbidden') {
      throw new CoreSDKError(
        'invalid_config',
        'The sidecar refused this tenant for this client: check CORESDK_TENANT_ID (tenantId) and CORESDK_SIDECAR_SECRET.',
      )
    }
    if (isErrorCode(code)) throw new CoreSDKError(code)
    if (answer.status === 502 || answer.status === 503 || answer.status === 504)
      throw new CoreSDKError('sidecar_unavailable')
    throw new CoreSDKError('internal_error', `The sidecar answered ${answer.status}.`)
  }
}

/** Whether the configuration can verify tokens here (needed for `failMode: 'open'` while the sidecar is away). */
function hasLocalJwt(config: ResolvedConfig): boolean {
  const jwt = config.jwt
  if (jwt.algorithms.length === 0 || jwt.issuer.length === 0 || jwt.audience.length === 0) return false
  const hmac = jwt.algorithms.some((alg) => alg.startsWith('HS'))
  return hmac ? jwt.secret !== undefined : jwt.jwksUri !== undefined || jwt.publicKeys.length > 0
}
