import type { ClientHints } from './client-device.ts'
import type { EventActor } from './events.ts'
import type { CreatedSession, Session } from './session.ts'
import type { AuthDecision, Claims, HttpProblem, TokenSet } from './types.ts'

/**
 * The credentials of one request, as an adapter reads them from its framework, and where it came from (the
 * {@link ClientHints}, recorded on a session this request creates).
 */
export interface AuthenticateRequest extends ClientHints {
  /** The `Authorization` header value(s); several values are a malformed request. */
  authorization?: string | string[] | null | undefined
  /** The `Cookie` header value. */
  cookie?: string | string[] | null | undefined
}

/** Options of `authenticate`. */
export interface AuthenticateOptions {
  /** When true, a request without any credential passes as anonymous (`user: null`). A bad credential is still refused. @default false */
  optional?: boolean
}

/** The outcome of `sdk.authenticate()`: what the adapter puts on the request, or the problem it answers with. */
export type AuthenticateResult =
  | {
      ok: true
      /** The verified claims, or null for an anonymous request when authentication is optional. */
      user: Claims | null
      /** The session the credential maps to; null when anonymous, or when the store was unreachable and `failMode` is open. */
      session: Session | null
      /** True when the request passed without the session check because the store was unreachable (`failMode: 'open'`). */
      degraded: boolean
      /** Which credential authenticated the request: a bearer token, a session cookie, or none (anonymous). */
      via: 'bearer' | 'cookie' | null
      /** `Set-Cookie` values to send with the response. */
      setCookie: string[]
    }
  | {
      ok: false
      problem: HttpProblem
      /** `Set-Cookie` values to send with the problem (clearing a dead session cookie). */
      setCookie: string[]
    }

/**
 * Options of `sessions().create()`. The {@link ClientHints} (the browser's `User-Agent`, the socket's peer address
 * and, from trusted proxies, the forwarded one) are kept as the session's `userAgent` and `ip`, for "my sessions" pages.
 */
export interface CreateSessionOptions extends ClientHints {
  /** Other non-secret details to keep with the session (`userAgent` and `ip` are CoreSDK's own). */
  meta?: Record<string, string>
  /**
   * "Remember me": `true` gives the session a persistent cookie and the absolute lifetime `sessions.persistentTimeout`;
   * `false` a browser-session cookie (no `Max-Age`, gone when the browser closes) and the lifetime
   * `sessions.absoluteTimeout`. The record keeps the choice and its absolute expiry, which no refresh extends.
   * @default true, with the lifetime `sessions.absoluteTimeout`
   */
  persistent?: boolean
}

/** Options of `sessions().listForUser()`. */
export interface ListSessionsOptions {
  /** Include revoked and expired sessions. @default false */
  includeInactive?: boolean
}

/** Options of the revoking calls of `sdk.sessions()`. */
export interface RevokeOptions {
  /** Who asks, as the lifecycle events report it. @default 'service' */
  actor?: EventActor
}

/** What an adapter's `logout` helper takes besides its request. */
export interface LogoutOptions {
  /** Revoke every session of the user, not only this one. @default false */
  everywhere?: boolean
  /**
   * Revoke every other session of the user and keep this one ("sign out other devices"): no cookie is cleared.
   * Not with `everywhere`. @default false
   */
  others?: boolean
}

/** What the logout helpers take. */
export interface LogoutRequest extends LogoutOptions {
  /** The current session (from the request); needed for `others`. */
  session: Session | null | undefined
  /** The current user (from the request); needed for `everywhere` and `others`. */
  user?: Claims | null | undefined
  /**
   * Whether the request passed degraded (its session could not be looked up): its revoke cannot be written, so
   * logout throws the unavailable error instead of reporting success. @default false
   */
  degraded?: boolean
}

/** What an adapter applies after a logout: the cookies to clear. */
export interface LogoutResult {
  /** How many sessions were revoked. */
  revoked: number
  /** `Set-Cookie` values that clear the session cookie (none after a logout of the `others`). */
  setCookie: string[]
}

/** Token verification, the seed's `sdk.auth()`. */
export interface AuthApi {
  /**
   * Verifies a token: signature, algorithm allowlist, `iss`, `aud`, `exp`, `nbf`, size, optional `typ` and tenant.
   * Never throws on a bad token: the decision says why.
   * @example
   * const decision = await sdk.auth().authorize({ token })
   * if (!decision.allowed) return problem(decision.problem)
   */
  authorize(request: { token: string | null | undefined }): Promise<AuthDecision>
}

/** Server-side sessions, the seed's `sdk.sessions()`. */
export interface SessionsApi {
  /**
   * Creates a session from an OAuth token-endpoint response: verifies the ID token (else the access token) and
   * stores a session for its `sub`. The result carries the cookie secret and `Set-Cookie` value, shown only once.
   * @example
   * const session = await sdk.sessions().create(tokenSet)
   * res.setHeader('set-cookie', session.setCookie)
   */
  create(tokenSet: TokenSet, options?: CreateSessionOptions): Promise<CreatedSession>
  /** The session with this id in this client's tenant, or null. */
  get(id: string): Promise<Session | null>
  /**
   * Renews a session's idle expiry (never past its absolute lifetime) and, when it holds a refresh token and a
   * token refresher is configured, rotates its tokens. Concurrent calls for one session share one refresh.
   */
  refresh(id: string): Promise<Session>
  /** Revokes one session. Resolves true when it is revoked (now or before), false when there is no such session. */
  revoke(id: string, options?: RevokeOptions): Promise<boolean>
  /** Revokes every session of a user, and every token of theirs issued at or before now. Resolves how many sessions it revoked. */
  revokeAllForUser(userId: string, options?: RevokeOptions): Promise<number>
  /** The same as {@link SessionsApi.revokeAllForUser}, under the name the seed's logout example uses. */
  revokeForUser(userId: string, options?: RevokeOptions): Promise<number>
  /**
   * Revokes every session of a user but `keepSessionId` ("sign out other devices"). Resolves how many it revoked.
   * Rejects with `invalid_request` when the kept session is not one of the user's. It ends sessions, not tokens: a
   * bearer token whose session the service has not seen yet starts one afterwards; {@link revokeAllForUser} sets a
   * cutoff that covers those too.
   * @example
   * await sdk.sessions().revokeOthersForUser(req.coresdk_user.sub, req.coresdk_session.id)
   */
  revokeOthersForUser(userId: string, keepSessionId: string, options?: RevokeOptions): Promise<number>
  /** A user's sessions, active ones only unless asked. */
  listForUser(userId: string, options?: ListSessionsOptions): Promise<Session[]>
  /** The OAuth tokens a session holds (decrypted), for calling APIs on the user's behalf. */
  getTokens(id: string): Promise<import('./types.ts').SessionTokens | null>
  /**
   * The session bound to a provider session: the one whose tokens carried this `sid` claim (its key is `sid:<sid>`),
   * revoked or not, or null. What a back-channel logout naming only a `sid` ends.
   */
  findByProviderSession(sid: string): Promise<Session | null>
  /**
   * Records a one-time key of this tenant (such as a logout token's `iss` and `jti`) until `expiresAt` (ms since the
   * epoch), atomically for every instance sharing the session store: true for the first claim, false for a replay.
   * Where the store has no `claimOnce`, the key is remembered in this process only (bounded).
   */
  claimOnce(key: string, expiresAt: number): Promise<boolean>
}
