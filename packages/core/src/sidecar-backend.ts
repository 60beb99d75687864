import type { Backend, BackendAnswer, BearerCredential, CreatedRecord } from './backend.ts'
import { BoundedMap } from './bounded-map.ts'
import { clientAddress, type TrustTest, trustTest } from './client-device.ts'
import type { ResolvedConfig } from './config.ts'
import type { CreateSessionOptions } from './engine.ts'
import { CoreSDKError, isErrorCode } from './errors.ts'
import { type EventActor, eventsFromWire, type LifecycleEmitter } from './events.ts'
import {
  recordFromWire,
  SIDECAR_ACTOR_HEADER,
  SIDECAR_KEY_HEADER,
  SIDECAR_TENANT_HEADER,
  sidecarPaths,
  unreadable,
} from './sidecar-protocol.ts'
import type { AuthDecision, AuthReason, Claims, SessionRecord, SessionTokens, TokenSet } from './types.ts'
import { deniedDecision } from './verify-token.ts'

const CACHE_CAPACITY = 10_000

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

type Answer = { status: number; data: unknown }
type Accepted = Extract<BackendAnswer, { ok: true }>

/**
 * The backend reached over HTTP at `sidecarAddr`: a CoreSDK sidecar answers. Accepted credentials are reused for
 * `sidecar.cacheTtl` ms (the pipeline still checks every reuse against the revocations it knows).
 */
export class SidecarBackend implements Backend {
  readonly verifiesLocally = false
  readonly #config: ResolvedConfig
  readonly #trust: TrustTest | null
  readonly #base: string
  readonly #headers: Record<string, string>
  readonly #realm: { realm: string }
  readonly #cache = new BoundedMap<string, Accepted>(CACHE_CAPACITY)
  readonly #events: LifecycleEmitter

  constructor(config: ResolvedConfig, events: LifecycleEmitter) {
    this.#config = config
    this.#events = events
    // Checked when the configuration was read: a test, never a message, here.
    this.#trust = trustTest(config.trustProxy) as TrustTest | null
    this.#base = config.sidecarAddr.replace(/\/+$/, '')
    this.#headers = { accept: 'application/json', [SIDECAR_TENANT_HEADER]: config.tenantId }
    if (config.sidecarSecret !== undefined) this.#headers[SIDECAR_KEY_HEADER] = config.sidecarSecret
    this.#realm = { realm: config.serviceName }
  }

  async degradedLogout(): Promise<never> {
    // The sidecar answers why: its store is away (it throws store_unavailable), or it is away itself.
    const answer = await this.#send('POST', sidecarPaths.logout, {
      sessionId: null,
      userId: null,
      degraded: true,
    })
    this.#expect(answer, 503)
    throw new CoreSDKError('store_unavailable')
  }

  onRevocation(): undefined {
    return undefined
  }

  async close(): Promise<void> {
    this.#cache.clear()
  }

  async authorize(token: string): Promise<AuthDecision> {
    const answer = await this.#send('POST', sidecarPaths.authorize, { token })
    this.#expect(answer, 200)
    const decision = answer.data as { allowed?: unknown; claims?: unknown; reason?: unknown }
    if (decision?.allowed === true && decision.claims && typeof decision.claims === 'object')
      return { allowed: true, claims: decision.claims as Claims, reason: null, problem: null }
    const reason =
      typeof decision?.reason === 'string' && REASONS.has(decision.reason)
        ? (decision.reason as AuthReason)
        : 'malformed'
    return deniedDecision(reason, this.#realm)
  }

  bearer({ token, hints }: BearerCredential): Promise<BackendAnswer> {
    return this.#authenticate(`b\n${token}`, {
      authorization: `Bearer ${token}`,
      cookie: null,
      userAgent: typeof hints.userAgent === 'string' ? hints.userAgent : undefined,
      // Resolved here: the trusted proxies are this service's, and the sidecar's own peer is this process.
      clientAddress: clientAddress(hints, this.#trust) ?? null,
    })
  }

  cookie(id: string, secret: string): Promise<BackendAnswer> {
    const cookie = `${this.#config.sessions.cookie.name}=${id}.${secret}`
    return this.#authenticate(`c\n${id}.${secret}`, {
      authorization: null,
      cookie,
      userAgent: undefined,
      clientAddress: null,
    })
  }

  async #authenticate(
    credential: string,
    request: {
      authorization: string | null
      cookie: string | null
      userAgent: string | undefined
      clientAddress: string | null
    },
  ): Promise<BackendAnswer> {
    const cached = this.#cache.get(credential)
    if (cached !== undefined) return cached
    const answer = await this.#send('POST', sidecarPaths.authenticate, {
      ...request,
      userAgent: request.userAgent ?? null,
      optional: false,
    })
    this.#expect(answer, 200)
    const body = answer.data as Record<string, unknown> | null
    if (body === null || typeof body !== 'object' || typeof body.ok !== 'boolean') throw unreadable()
    if (!body.ok) {
      const code = (body.problem as { body?: { code?: unknown } } | null)?.body?.code
      const clearCookie = Array.isArray(body.setCookie) && body.setCookie.length > 0
      return { ok: false, code: isErrorCode(code) ? code : 'internal_error', record: null, clearCookie }
    }
    if (body.user === null || typeof body.user !== 'object') throw unreadable()
    const record = body.session === null || body.session === undefined ? null : recordFromWire(body.session)
    const result: Accepted = { ok: true, user: body.user as Claims, record, degraded: body.degraded === true }
    const ttl = this.#config.sidecar.cacheTtl
    if (record !== null && !result.degraded && ttl > 0) {
      const now = Date.now()
      const exp = typeof result.user.exp === 'number' ? result.user.exp * 1000 : Number.POSITIVE_INFINITY
      const until = Math.min(now + ttl, record.expiresAt, record.absoluteExpiresAt, exp)
      if (until > now) this.#cache.set(credential, result, until)
    }
    return result
  }

  async create(tokenSet: TokenSet, _verified: null, options: CreateSessionOptions): Promise<CreatedRecord> {
    const answer = await this.#send('POST', sidecarPaths.sessions, {
      tokenSet,
      userAgent: options.userAgent ?? null,
      clientAddress: clientAddress(options, this.#trust) ?? null,
      meta: options.meta ?? {},
      ...(options.persistent === undefined ? {} : { persistent: options.persistent }),
    })
    this.#expect(answer, 201)
    const body = answer.data as { session?: unknown; secret?: unknown; setCookie?: unknown }
    if (typeof body?.secret !== 'string' || typeof body.setCookie !== 'string') throw unreadable()
    return { record: recordFromWire(body.session), secret: body.secret, setCookie: body.setCookie }
  }

  async get(id: string): Promise<SessionRecord | null> {
    const answer = await this.#send('GET', sidecarPaths.session(id))
    if (this.#notFound(answer)) return null
    this.#expect(answer, 200)
    return recordFromWire(answer.data)
  }

  async refresh(id: string): Promise<SessionRecord> {
    // The sidecar may wait for another instance's refresh, up to its lock TTL: the call's deadline allows for that.
    const { refreshLockTtl } = this.#config.sessions
    const answer = await this.#send('POST', sidecarPaths.refresh(id), undefined, {
      timeout: this.#config.sidecar.timeout + refreshLockTtl,
    })
    this.#expect(answer, 200)
    return recordFromWire(answer.data)
  }

  async revoke(id: string, actor: EventActor): Promise<SessionRecord | null> {
    const answer = await this.#send('DELETE', sidecarPaths.session(id), undefined, { actor })
    if (this.#notFound(answer)) return null
    this.#expect(answer, 200)
    return recordFromWire((answer.data as { session?: unknown } | null)?.session)
  }

  async revokeAll(userId: string, actor: EventActor): Promise<{ revoked: number; at: number }> {
    const answer = await this.#send('POST', sidecarPaths.revokeAll(userId), undefined, { actor })
    this.#expect(answer, 200)
    const body = answer.data as { revoked?: unknown; at?: unknown } | null
    return {
      revoked: typeof body?.revoked === 'number' ? body.revoked : 0,
      at: typeof body?.at === 'number' ? body.at : Date.now(),
    }
  }

  async revokeOthers(userId: string, keepId: string, actor: EventActor): Promise<string[]> {
    const answer = await this.#send(
      'POST',
      sidecarPaths.revokeOthers(userId),
      { keepSessionId: keepId },
      { actor },
    )
    this.#expect(answer, 200)
    const ids = (answer.data as { sessionIds?: unknown } | null)?.sessionIds
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw unreadable()
    return ids
  }

  async list(userId: string, includeInactive: boolean): Promise<SessionRecord[]> {
    const query = includeInactive ? '?includeInactive=true' : ''
    const answer = await this.#send('GET', `${sidecarPaths.userSessions(userId)}${query}`)
    this.#expect(answer, 200)
    const sessions = (answer.data as { sessions?: unknown })?.sessions
    if (!Array.isArray(sessions)) throw unreadable()
    return sessions.map(recordFromWire)
  }

  async providerSession(sid: string): Promise<SessionRecord | null> {
    const answer = await this.#send('GET', sidecarPaths.providerSession(sid))
    if (this.#notFound(answer)) return null
    this.#expect(answer, 200)
    return recordFromWire(answer.data)
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const answer = await this.#send('POST', sidecarPaths.claimOnce, { key, expiresAt })
    this.#expect(answer, 200)
    const claimed = (answer.data as { claimed?: unknown } | null)?.claimed
    if (typeof claimed !== 'boolean') throw unreadable()
    return claimed
  }

  async tokens(id: string): Promise<SessionTokens | null> {
    const answer = await this.#send('GET', sidecarPaths.tokens(id))
    if (this.#notFound(answer)) return null
    this.#expect(answer, 200)
    const tokens = (answer.data as { tokens?: unknown })?.tokens
    return tokens && typeof tokens === 'object' ? (tokens as SessionTokens) : null
  }

  /** One call with the per-call deadline; a broken pooled connection gets one more try within the same deadline. */
  async #send(
    method: string,
    path: string,
    body?: unknown,
    { timeout = this.#config.sidecar.timeout, actor }: { timeout?: number; actor?: EventActor } = {},
  ): Promise<Answer> {
    const signal = AbortSignal.timeout(timeout)
    let headers =
      body === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/json' }
    if (actor !== undefined) headers = { ...headers, [SIDECAR_ACTOR_HEADER]: actor }
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
    // The changes the call made in the sidecar, reported here as this client's own: each once, where it was asked for.
    const events = (data as { events?: unknown } | null)?.events
    if (events !== undefined) for (const event of eventsFromWire(events)) this.#events.emit(event)
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
