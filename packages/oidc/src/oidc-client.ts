import {
  type ClientHints,
  type CoreSDKClient,
  CoreSDKError,
  type CreatedSession,
  type SessionTokens,
  type TokenRefresher,
  type TokenSet,
} from '@coresdk/core'
import { type CookieScope, cookieNameProblem, cookiePrefixFor } from '@coresdk/core/adapter'
import type { SessionRecord } from '@coresdk/core/store'
import { base64url, createRemoteJWKSet } from 'jose'
import * as oidc from 'openid-client'
import { LogoutTokenError, type ReplayCache, verifyLogoutToken } from './backchannel-logout.ts'
import { readCookie, type StateCookieOptions, serializeCookie } from './cookies.ts'
import { deriveStateKeys, openLoginState, sealLoginState } from './login-state.ts'
import type { OidcRefresher } from './refresher.ts'
import { checkReturnTo, isSafeReturnTo } from './return-to.ts'

/** What {@link createOidcClient} takes. */
export interface OidcClientOptions {
  /** The CoreSDK client whose sessions the logins create. */
  sdk: CoreSDKClient
  /** The provider's issuer URL; its `/.well-known/openid-configuration` is fetched once. */
  issuer: string | URL
  /** This application's client id at the provider. */
  clientId: string
  /** The client secret (`client_secret_basic`); omit for a public client, which then relies on PKCE alone. */
  clientSecret?: string
  /** The callback URL registered at the provider, e.g. `https://app.example.com/auth/callback`. */
  redirectUri: string
  /** Where the provider sends the user after RP-initiated logout (registered at the provider). */
  postLogoutRedirectUri?: string
  /** The scopes requested. Add `offline_access` for a refresh token. @default 'openid profile email' */
  scope?: string
  /**
   * At least 32 bytes that encrypt the short-lived login-state cookie, or a list of such secrets, newest first:
   * login states are sealed with the first and opened with any (rotation). Instances behind one host must share them.
   */
  cookieSecret: string | Uint8Array | ReadonlyArray<string | Uint8Array>
  /**
   * The login-state cookie's name; a `__Host-` or `__Secure-` name needs `cookieSecure`.
   * @default '__Host-coresdk_oidc' when the cookie is secure, else 'coresdk_oidc'
   */
  cookieName?: string
  /** Whether the login-state cookie is `Secure`. @default true when `redirectUri` is https */
  cookieSecure?: boolean
  /** How long a login may take between `login()` and `callback()`, in seconds. @default 600 */
  loginTimeout?: number
  /** Extra parameters on every authorization request (`prompt`, `resource`, `acr_values`, …). @default {} */
  authorizationParams?: Record<string, string>
  /** Allow an `http://` issuer (local development and tests only). @default false */
  allowInsecureRequests?: boolean
  /** The deadline of each request to the provider, in seconds. @default 10 */
  timeout?: number
  /** Allowed clock skew when checking logout tokens (`exp`, and `iat` both ways), in seconds. @default 5 */
  clockTolerance?: number
  /** The oldest logout token accepted (by its `iat`), in seconds. @default 300 */
  logoutTokenMaxAge?: number
  /**
   * Where logout tokens' `jti` are remembered against replay.
   * @default `sdk.sessions().claimOnce()`: the session store's atomic claim, shared by every instance (in each
   * process only, when the store has no `claimOnce`)
   */
  replayCache?: ReplayCache
  /** A refresher created before the CoreSDK client (see {@link createOidcRefresher}); it is bound to this client. */
  refresher?: OidcRefresher
}

/** Options of {@link OidcClient.login}. */
export interface LoginOptions {
  /**
   * The path on this site to return to after the callback (`/path?query#fragment`, printable ASCII, at most 2048
   * characters; never `//…` or a `\`). Anything else throws a `CoreSDKError` (`invalid_request`). @default '/'
   */
  returnTo?: string
  /** Extra authorization parameters for this login only (e.g. `{ prompt: 'login' }`, `login_hint`). */
  params?: Record<string, string>
  /**
   * "Remember me", carried in the sealed login state to the session the callback creates: `true` for a persistent
   * session cookie (`sessions.persistentTimeout`), `false` for a browser-session cookie.
   * @default the core default of `sessions().create()` (persistent, `sessions.absoluteTimeout`)
   */
  rememberMe?: boolean
}

/** What {@link OidcClient.login} returns: where to redirect the browser, and the login-state cookie to set. */
export interface LoginResult {
  /** The provider's authorization URL (PKCE S256, state and nonce included). */
  url: string
  /** The `Set-Cookie` value of the login-state cookie. */
  setCookie: string
}

/** The request the provider redirected back with, and where it came from (kept on the session: see `ClientHints`). */
export interface CallbackRequest extends ClientHints {
  /** The full callback URL as received (its query carries `code` and `state`, or `error`). */
  url: string | URL
  /** The `Cookie` header, which carries the login-state cookie. */
  cookie: string | string[] | null | undefined
}

/** What {@link OidcClient.callback} returns. */
export interface CallbackResult {
  /** The new CoreSDK session. */
  session: CreatedSession
  /** `Set-Cookie` values: the session cookie, and the cleared login-state cookie. */
  setCookie: string[]
  /** The local path to redirect to. */
  returnTo: string
}

/** Options of {@link OidcClient.logoutUrl}. */
export interface LogoutUrlOptions {
  /** The session's ID token, which tells the provider whose session to end. */
  idTokenHint?: string | null | undefined
  /** An opaque value the provider passes back to `postLogoutRedirectUri`. */
  state?: string
}

/** What {@link OidcClient.backchannelLogout} takes: the POST body the provider sent. */
export interface BackchannelLogoutRequest {
  /** The `application/x-www-form-urlencoded` body, as a string, URLSearchParams or a parsed object. */
  body: string | URLSearchParams | Record<string, unknown> | null | undefined
}

/** The answer to a back-channel logout request, per OpenID Connect Back-Channel Logout 1.0 §2.8. */
export interface BackchannelLogoutResult {
  /** 200 when done; 400 for a bad logout token; 503 when the sessions could not be revoked (the provider may retry). */
  status: 200 | 400 | 503
  headers: Record<string, string>
  /** Empty on success, else a JSON `{ error, error_description }`. */
  body: string
  /** How many sessions were revoked. */
  revoked: number
}

/** The provider's metadata this client relies on. */
export interface OidcProviderMetadata {
  issuer: string
  authorizationEndpoint: string
  tokenEndpoint: string
  jwksUri: string
  endSessionEndpoint: string | undefined
  /** The ID token signing algorithms the provider advertises. */
  idTokenSigningAlgorithms: string[]
}

/** An OpenID Connect relying party that turns logins into CoreSDK sessions. */
export interface OidcClient {
  /** The CoreSDK client the sessions live in. */
  readonly sdk: CoreSDKClient
  readonly clientId: string
  /** The provider's discovered metadata. */
  readonly metadata: OidcProviderMetadata
  /** Refresh-token rotation for core (`sessions.tokenRefresher`): invalid_grant revokes the session. */
  readonly tokenRefresher: TokenRefresher
  /** Starts a login: the authorization URL to redirect to and the login-state cookie to set. */
  login(options?: LoginOptions): Promise<LoginResult>
  /**
   * Completes a login: checks state, exchanges the code (PKCE), checks the ID token's nonce, and creates a session.
   * Throws a `CoreSDKError`: `invalid_request` (400) for a missing, expired or mismatched login state or a provider
   * error, `invalid_token` (401) for a rejected ID token.
   */
  callback(request: CallbackRequest): Promise<CallbackResult>
  /** The provider's end-session URL for RP-initiated logout, or null when the provider has none. */
  logoutUrl(options?: LogoutUrlOptions): string | null
  /** Verifies a back-channel logout token and revokes the sessions it names. Never throws. */
  backchannelLogout(request: BackchannelLogoutRequest): Promise<BackchannelLogoutResult>
  /** The `Set-Cookie` value that clears the login-state cookie. */
  clearStateCookie(): string
  /**
   * The session's tokens, with an access token valid for at least `minValidity` more seconds: when it expires sooner
   * (or its expiry is unknown) and the session holds a refresh token, it is refreshed first through
   * `sdk.sessions().refresh()`, so concurrent callers on every instance share one grant. Null when the session holds
   * no tokens. Rejects like `refresh()` (`refresh_token_invalid` when the provider ended the grant).
   * @example
   * const tokens = await oidc.freshTokens(req.coresdk_session!.id, { minValidity: 30 })
   * await fetch(apiUrl, { headers: { authorization: `Bearer ${tokens?.accessToken}` } })
   */
  freshTokens(sessionId: string, options?: FreshTokensOptions): Promise<SessionTokens | null>
}

/** Options of {@link OidcClient.freshTokens}. */
export interface FreshTokensOptions {
  /** How long the access token must still be valid, in seconds; a shorter one is refreshed first. @default 60 */
  minValidity?: number
}

/** The login-state cookie's attributes: host-only on `/`, Secure when asked or when the redirect URI is https. */
function stateCookieScope(options: OidcClientOptions): CookieScope {
  return {
    secure: options.cookieSecure ?? new URL(options.redirectUri).protocol === 'https:',
    path: '/',
    domain: undefined,
  }
}

function configError(setting: string, accepts: string): never {
  throw new CoreSDKError('invalid_config', `CoreSDK OIDC configuration: ${setting} is invalid; ${accepts}.`)
}

function checkOptions(options: OidcClientOptions): void {
  if (!options || typeof options !== 'object')
    configError('options', 'it accepts an OidcClientOptions object')
  if (!options.sdk || typeof options.sdk.sessions !== 'function')
    configError('sdk', 'it accepts a CoreSDKClient')
  if (typeof options.clientId !== 'string' || options.clientId === '')
    configError('clientId', 'it accepts a non-empty string')
  for (const [setting, value] of [
    ['issuer', options.issuer],
    ['redirectUri', options.redirectUri],
    ['postLogoutRedirectUri', options.postLogoutRedirectUri],
  ] as const) {
    if (value === undefined && setting === 'postLogoutRedirectUri') continue
    if (!URL.canParse(String(value)) || !/^https?:$/.test(new URL(String(value)).protocol)) {
      configError(setting, 'it accepts an absolute http:// or https:// URL')
    }
  }
  if (
    options.clientSecret !== undefined &&
    (typeof options.clientSecret !== 'string' || options.clientSecret === '')
  ) {
    configError('clientSecret', 'it accepts a non-empty string, or nothing for a public client')
  }
  if (options.cookieSecure !== undefined && typeof options.cookieSecure !== 'boolean')
    configError('cookieSecure', 'it accepts true or false')
  if (options.cookieName !== undefined) {
    const problem = cookieNameProblem(options.cookieName, stateCookieScope(options))
    if (problem === 'name') configError('cookieName', 'it accepts a cookie name token')
    if (problem !== null)
      configError(
        'cookieName',
        'a __Host- or __Secure- name requires cookieSecure true (or an https redirectUri)',
      )
  }
  const { loginTimeout = 600, timeout = 10, clockTolerance = 5, logoutTokenMaxAge = 300 } = options
  for (const [setting, value, max] of [
    ['loginTimeout', loginTimeout, 3600],
    ['timeout', timeout, 120],
    ['clockTolerance', clockTolerance, 300],
    ['logoutTokenMaxAge', logoutTokenMaxAge, 86_400],
  ] as const) {
    if (!Number.isInteger(value) || value < (setting === 'clockTolerance' ? 0 : 1) || value > max) {
      configError(setting, `it accepts an integer number of seconds up to ${max}`)
    }
  }
}

/** Turns whatever openid-client threw during the code exchange into a CoreSDKError with no library text. */
function callbackError(error: unknown): CoreSDKError {
  if (error instanceof CoreSDKError) return error
  if (error instanceof oidc.AuthorizationResponseError) {
    return new CoreSDKError('invalid_request', 'The provider refused the login.', { cause: error })
  }
  if (error instanceof oidc.ResponseBodyError) {
    // invalid_grant: a code already used, expired, or issued to another client or redirect URI.
    return new CoreSDKError('invalid_request', 'The provider refused the authorization code.', {
      cause: error,
    })
  }
  if (error instanceof oidc.ClientError) {
    const code = error.code ?? ''
    if (
      code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' ||
      code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' ||
      code.includes('JWT')
    ) {
      return new CoreSDKError('invalid_token', 'The ID token was rejected.', { cause: error })
    }
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      return new CoreSDKError('internal_error', 'The provider answered the token request unexpectedly.', {
        cause: error,
      })
    }
    return new CoreSDKError('invalid_token', 'The token response was rejected.', { cause: error })
  }
  return new CoreSDKError('internal_error', 'The provider could not be reached.', { cause: error })
}

function toTokenSet(response: oidc.TokenEndpointResponse, previousRefreshToken?: string): TokenSet {
  const tokens: TokenSet = {}
  for (const [name, value] of Object.entries(response)) {
    if (typeof value !== 'function') tokens[name] = value
  }
  // A provider that does not rotate returns no refresh token: the old one stays valid and must be kept.
  if (tokens.refresh_token === undefined && previousRefreshToken !== undefined)
    tokens.refresh_token = previousRefreshToken
  return tokens
}

function readLogoutToken(body: BackchannelLogoutRequest['body']): string | undefined {
  if (body == null) return undefined
  let value: unknown
  if (typeof body === 'string') value = new URLSearchParams(body).getAll('logout_token')
  else if (body instanceof URLSearchParams) value = body.getAll('logout_token')
  else value = (body as Record<string, unknown>).logout_token
  if (Array.isArray(value)) return value.length === 1 && typeof value[0] === 'string' ? value[0] : undefined
  return typeof value === 'string' ? value : undefined
}

/** The one-time key of a logout token: a digest of its issuer and `jti`, so any `jti` makes a short, plain key. */
async function replayKeyOf(iss: string, jti: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${iss}\n${jti}`))
  return `logout-jti:${base64url.encode(new Uint8Array(digest))}`
}

function logoutAnswer(
  status: 200 | 400 | 503,
  revoked: number,
  error?: string,
  description?: string,
): BackchannelLogoutResult {
  const headers: Record<string, string> = { 'cache-control': 'no-store' }
  if (status === 503) headers['retry-after'] = '5'
  if (error === undefined) return { status, headers, body: '', revoked }
  headers['content-type'] = 'application/json'
  return { status, headers, body: JSON.stringify({ error, error_description: description }), revoked }
}

/**
 * Discovers the provider and returns a relying party whose logins become CoreSDK sessions.
 * Configuration mistakes throw a `CoreSDKError` (`invalid_config`); an unreachable provider rejects.
 * @example
 * const refresher = createOidcRefresher()
 * // audience: your API's identifier (what access tokens carry), never the client id, which ID tokens carry.
 * const sdk = new CoreSDKClient({ jwt: { issuer, audience: 'https://api.example.com', idTokenAudience: clientId, jwksUri, algorithms: ['RS256'] },
 *   sessions: { tokenRefresher: refresher } })
 * const oidc = await createOidcClient({ sdk, issuer, clientId, clientSecret, redirectUri, cookieSecret, refresher })
 */
export async function createOidcClient(options: OidcClientOptions): Promise<OidcClient> {
  checkOptions(options)
  const {
    sdk,
    clientId,
    clientSecret,
    redirectUri,
    postLogoutRedirectUri,
    scope = 'openid profile email',
    loginTimeout = 600,
    authorizationParams = {},
    timeout = 10,
    clockTolerance = 5,
    logoutTokenMaxAge = 300,
  } = options
  const stateKeys = await deriveStateKeys(options.cookieSecret)
  const cookieScope = stateCookieScope(options)
  const cookie: Omit<StateCookieOptions, 'maxAge'> = {
    name: options.cookieName ?? `${cookiePrefixFor(cookieScope)}coresdk_oidc`,
    secure: cookieScope.secure,
    path: cookieScope.path,
  }
  const replayCache: ReplayCache = options.replayCache ?? {
    add: (key, expiresAt) => sdk.sessions().claimOnce(key, expiresAt),
  }

  const metadata: Partial<oidc.ClientMetadata> = { redirect_uris: [redirectUri] }
  if (postLogoutRedirectUri) metadata.post_logout_redirect_uris = [postLogoutRedirectUri]
  const config = await oidc.discovery(
    new URL(String(options.issuer)),
    clientId,
    metadata,
    clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret),
    { execute: options.allowInsecureRequests ? [oidc.allowInsecureRequests] : [], timeout },
  )
  config.timeout = timeout
  const server = config.serverMetadata()
  if (!server.jwks_uri)
    throw new CoreSDKError('invalid_config', 'CoreSDK OIDC: the provider publishes no jwks_uri.')
  const idTokenSigningAlgorithms = (server.id_token_signing_alg_values_supported ?? ['RS256']).filter(
    (alg) => alg !== 'none' && !alg.startsWith('HS'),
  )
  const providerMetadata: OidcProviderMetadata = {
    issuer: server.issuer,
    authorizationEndpoint: String(server.authorization_endpoint),
    tokenEndpoint: String(server.token_endpoint),
    jwksUri: server.jwks_uri,
    endSessionEndpoint: server.end_session_endpoint,
    idTokenSigningAlgorithms,
  }
  const jwks = createRemoteJWKSet(new URL(server.jwks_uri), { timeoutDuration: timeout * 1000 })

  async function rotate(refreshToken: string, session: SessionRecord): Promise<TokenSet> {
    let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>
    try {
      response = await oidc.refreshTokenGrant(config, refreshToken)
    } catch (error) {
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
        throw new CoreSDKError('refresh_token_invalid', undefined, { cause: error })
      }
      throw new CoreSDKError('refresh_failed', undefined, { cause: error })
    }
    if (response.id_token !== undefined) {
      // A refreshed ID token must name the same user; anything else is a provider or token mix-up.
      const claims = response.claims()
      if (claims?.sub !== session.userId)
        throw new CoreSDKError('refresh_token_invalid', 'The refreshed ID token names another user.')
    }
    return toTokenSet(response, refreshToken)
  }

  // One grant per session at a time is core's rule (sessions().refresh(): its store's lock, or one per process).
  const tokenRefresher: TokenRefresher = { refresh: rotate }

  async function revokeForLogout(sub: string | undefined, sid: string | undefined): Promise<number> {
    const sessions = sdk.sessions()
    // The provider acts: the lifecycle events say so.
    const idp = { actor: 'idp' } as const
    if (sid === undefined) return sub === undefined ? 0 : sessions.revokeAllForUser(sub, idp)
    // Every session made from this provider session is bound to its sid, whether sub is named or not.
    const session = await sessions.findByProviderSession(sid)
    // With both, the sid must be the user's: another user's session is not this logout's to end.
    if (session === null || (sub !== undefined && session.userId !== sub)) return 0
    return (await sessions.revoke(session.id, idp)) ? 1 : 0
  }

  const client: OidcClient = {
    sdk,
    clientId,
    metadata: providerMetadata,
    tokenRefresher,

    async login(loginOptions = {}) {
      // Refused before anything is made: a bad returnTo must not reach the callback, where the session is stored.
      const returnTo = checkReturnTo(loginOptions.returnTo)
      const { rememberMe } = loginOptions
      if (rememberMe !== undefined && typeof rememberMe !== 'boolean')
        throw new CoreSDKError('invalid_request', 'login() takes rememberMe as true or false.')
      const state = oidc.randomState()
      const nonce = oidc.randomNonce()
      const codeVerifier = oidc.randomPKCECodeVerifier()
      const params: Record<string, string> = {
        ...authorizationParams,
        ...loginOptions.params,
        redirect_uri: redirectUri,
        scope,
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      }
      if (loginOptions.params?.scope) params.scope = loginOptions.params.scope
      const url = oidc.buildAuthorizationUrl(config, params)
      const sealed = await sealLoginState(
        {
          state,
          nonce,
          codeVerifier,
          returnTo,
          ...(rememberMe === undefined ? {} : { persistent: rememberMe }),
        },
        stateKeys,
        loginTimeout,
      )
      return { url: url.href, setCookie: serializeCookie(sealed, { ...cookie, maxAge: loginTimeout }) }
    },

    async callback(request) {
      const received = new URL(String(request.url))
      const saved = await openLoginState(readCookie(request.cookie, cookie.name), stateKeys)
      if (!saved)
        throw new CoreSDKError(
          'invalid_request',
          'The login state is missing or expired: start the login again.',
        )
      if (received.searchParams.get('state') !== saved.state) {
        throw new CoreSDKError(
          'invalid_request',
          'The login state does not match this browser: start the login again.',
        )
      }
      // The redirect URI sent to the token endpoint is the configured one, whatever host or proxy the request came through.
      const currentUrl = new URL(redirectUri)
      currentUrl.search = received.search
      let tokens: oidc.TokenEndpointResponse
      try {
        tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: saved.codeVerifier,
          expectedState: saved.state,
          expectedNonce: saved.nonce,
          idTokenExpected: true,
        })
      } catch (error) {
        throw callbackError(error)
      }
      const session = await sdk.sessions().create(toTokenSet(tokens), {
        userAgent: request.userAgent ?? null,
        ...(saved.persistent === undefined ? {} : { persistent: saved.persistent }),
        remoteAddress: request.remoteAddress,
        forwardedFor: request.forwardedFor,
        forwarded: request.forwarded,
      })
      // A state sealed before returnTo was checked at login may carry anything: it goes home, not astray.
      const returnTo = isSafeReturnTo(saved.returnTo) ? saved.returnTo : '/'
      return { session, setCookie: [session.setCookie, client.clearStateCookie()], returnTo }
    },

    logoutUrl(logoutOptions = {}) {
      if (!server.end_session_endpoint) return null
      const params: Record<string, string> = { client_id: clientId }
      if (logoutOptions.idTokenHint) params.id_token_hint = logoutOptions.idTokenHint
      if (postLogoutRedirectUri) params.post_logout_redirect_uri = postLogoutRedirectUri
      if (logoutOptions.state) params.state = logoutOptions.state
      return oidc.buildEndSessionUrl(config, params).href
    },

    async backchannelLogout(request) {
      const token = readLogoutToken(request.body)
      if (token === undefined)
        return logoutAnswer(400, 0, 'invalid_request', 'The request carries no single logout_token.')
      let claims: Awaited<ReturnType<typeof verifyLogoutToken>>
      try {
        claims = await verifyLogoutToken(token, {
          issuer: server.issuer,
          clientId,
          keys: jwks,
          algorithms: idTokenSigningAlgorithms,
          clockTolerance,
          maxAge: logoutTokenMaxAge,
        })
      } catch (error) {
        const description = error instanceof LogoutTokenError ? error.message : 'The logout token is invalid.'
        return logoutAnswer(400, 0, 'invalid_request', description)
      }
      const unavailable = () =>
        logoutAnswer(503, 0, 'temporarily_unavailable', 'The sessions could not be revoked. Retry later.')
      const replayKey = await replayKeyOf(claims.iss, claims.jti)
      // Claimed before anything is revoked: of two deliveries of one token, on any instances, one acts.
      let first: boolean
      try {
        first = await replayCache.add(replayKey, claims.expiresAt)
      } catch {
        return unavailable()
      }
      if (!first) return logoutAnswer(400, 0, 'invalid_request', 'The logout token was already used.')
      try {
        return logoutAnswer(200, await revokeForLogout(claims.sub, claims.sid))
      } catch {
        // A cache that can forget lets the provider retry; the store's claim stays (see docs/oauth.md).
        await replayCache.delete?.(replayKey).catch(() => {})
        return unavailable()
      }
    },

    clearStateCookie() {
      return serializeCookie('', { ...cookie, maxAge: 0 })
    },

    async freshTokens(sessionId, freshOptions = {}) {
      const { minValidity = 60 } = freshOptions
      if (!Number.isInteger(minValidity) || minValidity < 0 || minValidity > 86_400)
        throw new CoreSDKError(
          'invalid_request',
          'minValidity takes an integer number of seconds up to 86400.',
        )
      const sessions = sdk.sessions()
      const tokens = await sessions.getTokens(sessionId)
      if (tokens === null || tokens.refreshToken === undefined) return tokens
      const expiresAt = tokens.accessTokenExpiresAt
      if (
        tokens.accessToken !== undefined &&
        expiresAt !== undefined &&
        expiresAt - Date.now() > minValidity * 1000
      )
        return tokens
      // The one refresh path: one grant per session across instances, a lost race re-read, never a revoke for it.
      await sessions.refresh(sessionId)
      return sessions.getTokens(sessionId)
    },
  }

  options.refresher?.bind(client)
  return client
}
