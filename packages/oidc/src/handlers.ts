import { CoreSDKError } from '@coresdk/core'
import { problemFromError, type RouteRequest, type RouteResponse } from '@coresdk/core/adapter'
import type { OidcClient } from './oidc-client.ts'

/** A framework's request, reduced to what the OIDC routes read: core's {@link RouteRequest}. */
export type OidcHttpRequest = RouteRequest

/** The answer an adapter writes as it is: core's {@link RouteResponse}. */
export type OidcHttpResponse = RouteResponse

/** Options of {@link createOidcHandlers}. */
export interface OidcHandlersOptions {
  /** End the provider's session too on logout (RP-initiated logout), when the provider supports it. @default true */
  providerLogout?: boolean
  /** Where to send the browser after logout when the provider is not involved. @default '/' */
  afterLogout?: string
}

/** Options of one logout. */
export interface LogoutHandlerOptions {
  /** Revoke every session of the user, not only this one. @default false */
  everywhere?: boolean
}

/** The login, callback, logout and back-channel logout routes, framework-neutral. */
export interface OidcHandlers {
  /**
   * `GET /auth/login[?returnTo=/path][&rememberMe=1]`: 302 to the provider, with the login-state cookie. `rememberMe`
   * (`1`/`true` or `0`/`false`) chooses a persistent or a browser-session cookie for the session made at the callback.
   * A `returnTo` that is not a path on this site, or a `rememberMe` of another value, is the 400 problem `invalid_request`.
   */
  login(request: OidcHttpRequest): Promise<OidcHttpResponse>
  /** `GET /auth/callback`: creates the session, 303 to the page the login started from; a problem otherwise. */
  callback(request: OidcHttpRequest): Promise<OidcHttpResponse>
  /** `POST /auth/logout`: revokes the session (or all with `everywhere`), clears the cookie, 303 to the provider's logout or home. */
  logout(request: OidcHttpRequest, options?: LogoutHandlerOptions): Promise<OidcHttpResponse>
  /** `POST /auth/backchannel-logout`: the provider's logout token; 200, or 400 with an error JSON. */
  backchannelLogout(request: OidcHttpRequest): Promise<OidcHttpResponse>
}

function header(headers: OidcHttpRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const value = (headers as Record<string, string | string[] | undefined>)[name]
  return Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value
}

/** The login route's `rememberMe`: absent, or exactly one of `1`, `true`, `0`, `false`. */
function readRememberMe(values: string[]): boolean | undefined {
  if (values.length === 0) return undefined
  if (values.length === 1 && /^(1|true)$/i.test(values[0]!)) return true
  if (values.length === 1 && /^(0|false)$/i.test(values[0]!)) return false
  throw new CoreSDKError('invalid_request', 'rememberMe takes 1 or 0.', {
    detail: 'The rememberMe parameter accepts 1 (true) or 0 (false), once.',
  })
}

function redirect(status: 302 | 303, location: string, setCookie: string[]): OidcHttpResponse {
  return { status, headers: { location, 'cache-control': 'no-store', 'set-cookie': setCookie }, body: '' }
}

function problem(error: unknown, setCookie: string[] = []): OidcHttpResponse {
  const answer = problemFromError(error)
  return {
    status: answer.status,
    headers: { ...answer.headers, 'set-cookie': setCookie },
    body: JSON.stringify(answer.body),
  }
}

function methodNotAllowed(): OidcHttpResponse {
  return {
    status: 405,
    headers: { allow: 'POST', 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({ error: 'invalid_request', error_description: 'Use POST.' }),
  }
}

/**
 * The session's ID token, for `id_token_hint`; null when a sidecar does not hand tokens out (403 `forbidden`,
 * `CORESDK_SIDECAR_EXPOSE_TOKENS` off): the provider then asks the user which session to end.
 */
async function idTokenHint(client: OidcClient, sessionId: string): Promise<string | null> {
  try {
    return (await client.sdk.sessions().getTokens(sessionId))?.idToken ?? null
  } catch (error) {
    if (error instanceof CoreSDKError && error.code === 'forbidden') return null
    throw error
  }
}

/**
 * The OIDC routes as plain functions over `{ url, method, headers, body }`, for any framework to mount in a few lines.
 * @example
 * const routes = createOidcHandlers(oidc)
 * app.get('/auth/login', async (req, res) => send(res, await routes.login(toOidcRequest(req))))
 */
export function createOidcHandlers(client: OidcClient, options: OidcHandlersOptions = {}): OidcHandlers {
  const providerLogout = options.providerLogout ?? true
  const afterLogout = options.afterLogout ?? '/'

  return {
    async login(request) {
      try {
        const query = new URL(String(request.url)).searchParams
        const given = query.getAll('returnTo')
        // Two values are one too many: which one a proxy or a framework would have kept is not ours to guess.
        const returnTo = given.length > 1 ? '' : given[0]
        const rememberMe = readRememberMe(query.getAll('rememberMe'))
        const { url, setCookie } = await client.login({
          ...(returnTo === undefined ? {} : { returnTo }),
          ...(rememberMe === undefined ? {} : { rememberMe }),
        })
        return redirect(302, url, [setCookie])
      } catch (error) {
        return problem(error)
      }
    },

    async callback(request) {
      try {
        const result = await client.callback({
          url: request.url,
          cookie: header(request.headers, 'cookie'),
          userAgent: header(request.headers, 'user-agent'),
          remoteAddress: request.remoteAddress,
          forwardedFor: header(request.headers, 'x-forwarded-for'),
          forwarded: header(request.headers, 'forwarded'),
        })
        return redirect(303, result.returnTo, result.setCookie)
      } catch (error) {
        // The login state is single-use: a failed callback clears it either way.
        return problem(error, [client.clearStateCookie()])
      }
    },

    async logout(request, logoutOptions = {}) {
      if ((request.method ?? 'GET').toUpperCase() !== 'POST') return methodNotAllowed()
      const { sdk } = client
      try {
        const auth = await sdk.authenticate(
          {
            cookie: header(request.headers, 'cookie'),
            authorization: header(request.headers, 'authorization'),
          },
          { optional: true },
        )
        const session = auth.ok ? auth.session : null
        // Read the ID token before revoking: it is the hint that tells the provider whose session to end.
        const idToken = session && providerLogout ? await idTokenHint(client, session.id) : null
        const result = await sdk.logout({
          session,
          user: auth.ok ? auth.user : null,
          everywhere: logoutOptions.everywhere ?? false,
        })
        const location = (idToken && client.logoutUrl({ idTokenHint: idToken })) || afterLogout
        return redirect(303, location, result.setCookie)
      } catch (error) {
        return problem(CoreSDKError.from(error))
      }
    },

    async backchannelLogout(request) {
      if ((request.method ?? 'POST').toUpperCase() !== 'POST') return methodNotAllowed()
      const result = await client.backchannelLogout({ body: request.body })
      return { status: result.status, headers: result.headers, body: result.body }
    },
  }
}

/** One OIDC route: what an adapter mounts with its `authRoute()`. */
export interface OidcRoute {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly handler: (request: OidcHttpRequest) => Promise<OidcHttpResponse>
}

/**
 * The OIDC routes under `base`: `GET login` and `callback`, `POST logout`, `logout-all` (every session of the user)
 * and `backchannel-logout`, each to mount with the adapter's `authRoute()`, outside authentication.
 * @example
 * for (const route of oidcRoutes(handlers)) app.on(route.method, route.path, authRoute(route.handler))
 */
export function oidcRoutes(handlers: OidcHandlers, base = '/auth'): readonly OidcRoute[] {
  const routes: OidcRoute[] = [
    { method: 'GET', path: `${base}/login`, handler: handlers.login },
    { method: 'GET', path: `${base}/callback`, handler: handlers.callback },
    { method: 'POST', path: `${base}/logout`, handler: handlers.logout },
    {
      method: 'POST',
      path: `${base}/logout-all`,
      handler: (request: OidcHttpRequest) => handlers.logout(request, { everywhere: true }),
    },
    { method: 'POST', path: `${base}/backchannel-logout`, handler: handlers.backchannelLogout },
  ]
  return Object.freeze(routes)
}
