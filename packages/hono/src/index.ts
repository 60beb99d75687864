import type { Claims, CoreSDKClient, LogoutOptions, LogoutResult, Session } from '@coresdk/core'
import { CoreSDKError } from '@coresdk/core'
import type * as Core from '@coresdk/core/adapter'
import { defineAdapter, nodeRequest } from '@coresdk/core/adapter'
import type { Context, Handler, Env as HonoEnv, Input, MiddlewareHandler, Next } from 'hono'
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status'

/** The context variables the middleware sets: `c.get('coresdk_user')`, … */
export type CoreSdkVariables = {
  /** What CoreSDK found on this request: user, session, degraded, and the client. */
  coresdk: Core.RequestAuth
  /** The verified claims of the caller, or null when anonymous (optional authentication, public path). */
  coresdk_user: Claims | null
  /** The caller's session; null when anonymous or when the store was unreachable (`failMode: 'open'`). */
  coresdk_session: Session | null
  /** True when the request passed without the session check because the store was unreachable. */
  coresdk_degraded: boolean
}

declare module 'hono' {
  interface ContextVariableMap extends CoreSdkVariables {}
}

/** Options of {@link coreSdkMiddleware}: `optional`, `publicPaths` (matched on the raw path) and `allowedOrigins`. */
export type CoreSdkMiddlewareOptions = Core.AdapterKitOptions

type Env = { Variables: CoreSdkVariables }
type Middleware = MiddlewareHandler<Env>
type Incoming = Parameters<typeof nodeRequest>[0]
const incomingOf = (c: Context) => (c.env as { incoming?: Partial<Incoming> } | undefined)?.incoming

/** The request as received: on Node, Node's own (asking Hono builds a Web Request); elsewhere the Web one. */
function requestOf(c: Context) {
  const incoming = incomingOf(c)
  if (Array.isArray(incoming?.rawHeaders)) return nodeRequest(incoming as Incoming)
  // Elsewhere (Workers, Bun, Deno) the runtime's peer address is not on the request: sessions record no address.
  // The path as the request carried it (Hono's routing path is decoded): no spelling of a route passes as public.
  const url = c.req.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  return { method: c.req.method, url: start === -1 ? '/' : url.slice(start), headers: c.req.raw.headers }
}

// No async function of its own: a warm request (answered without a promise) goes on in the same turn.
const adapter = defineAdapter<
  Context<Env>,
  Next | undefined,
  undefined,
  Response | Promise<void>,
  Middleware
>({
  setup: 'coreSdkMiddleware(sdk)',
  request: requestOf,
  routeRequest: (c) => ({
    method: c.req.method,
    // On Node the target as received (its Host is checked); elsewhere the runtime's absolute URL.
    url: incomingOf(c)?.url ?? c.req.url,
    protocol: c.req.url.startsWith('https:') ? 'https' : 'http',
    headers: c.req.raw.headers,
    remoteAddress: incomingOf(c)?.socket?.remoteAddress,
    body: c.req.raw.body,
  }),
  auth: (c) => c.get('coresdk'),
  pass(auth, c, next) {
    c.set('coresdk', auth)
    c.set('coresdk_user', auth.user)
    c.set('coresdk_session', auth.session)
    c.set('coresdk_degraded', auth.degraded)
    // Hono hands every middleware its `next`: only the helpers called from a handler have none.
    return next!()
  },
  cookies(setCookie, c) {
    for (const cookie of setCookie) c.header('set-cookie', cookie, { append: true })
  },
  // Through the context, so cookies already set (a renewed session) go out with the answer.
  write(answer, c) {
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const one of value) c.header(name, one, { append: true })
      else c.header(name, value)
    }
    // No body at all for an empty one: a 204 or 304 must not carry one.
    if (answer.body === '') return c.body(null, answer.status as StatusCode)
    return c.body(answer.body, answer.status as ContentfulStatusCode)
  },
})

/**
 * Authenticates every request, setting `coresdk`, `coresdk_user`, `coresdk_session` and `coresdk_degraded`.
 * @example
 * app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
 */
export const coreSdkMiddleware: Core.AdapterMiddleware<Middleware> = adapter.middleware

/**
 * Authentication in the route's own handler instead of a middleware before it: wraps a handler (or a middleware,
 * which keeps its `next`) so that it runs once the request is authenticated, with the same variables, answers and
 * options as {@link coreSdkMiddleware}. Only the wrapped routes are authenticated; a path no route matches is
 * Hono's 404. Hono runs a route with a single handler without composing a middleware chain, so this form costs
 * less per request (see the benchmarks).
 * @example
 * const authenticated = withCoreSdk(sdk)
 * app.get('/api/me', authenticated((c) => c.json({ sub: c.get('coresdk_user')!.sub })))
 */
export function withCoreSdk(
  sdk: CoreSDKClient,
  options?: CoreSdkMiddlewareOptions,
): <E extends HonoEnv = Env, P extends string = string, I extends Input = {}>(
  handler: Handler<E, P, I>,
) => Handler<E, P, I> {
  const middleware = adapter.middleware(sdk, options) as unknown as (
    c: Context,
    next: () => unknown,
  ) => unknown
  // The middleware goes on by calling its `next`, and answers with what that returns: here, the handler's answer.
  return (handler) => (c, next) => middleware(c, () => handler(c, next)) as ReturnType<typeof handler>
}

/** Refuses anonymous requests with the 401 problem (on a public path, it authenticates first). */
export const requireAuth: () => Middleware = adapter.requireAuth

/**
 * Lets a request through only with one of `roles` (or `{ anyOf, allOf }`): 401 when anonymous, else 403.
 * @example
 * app.get('/admin', requireRoles('admin'), handler)
 */
export const requireRoles: Core.RequireRoles<Middleware> = adapter.requireRoles

/**
 * Revokes the current session (all the user's with `everywhere`) and clears the session cookie; with `others`, revokes
 * the user's other sessions and keeps this one. The caller answers.
 * @example
 * app.post('/auth/logout', async (c) => { await logout(c); return c.body(null, 204) })
 */
export function logout(c: Context, options: LogoutOptions = {}): Promise<LogoutResult> {
  return adapter.logout(c, undefined, options)
}

/**
 * Mounts a framework-neutral route (such as `@coresdk/oidc`'s login and callback), its body limited to the kit's.
 * @example
 * app.get('/auth/login', authRoute(routes.login))
 */
export const authRoute = adapter.authRoute as (handler: Core.RouteHandler) => Handler

/**
 * An `app.onError` handler: answers a `CoreSDKError` with core's problem; anything else as Hono would.
 * @example
 * app.onError(coreSdkErrorHandler)
 */
export function coreSdkErrorHandler(err: Error, c: Context): Response {
  if (err instanceof CoreSDKError) return adapter.error(err, c, undefined) as Response
  // Hono's own default, which an onError handler replaces and cannot defer to: an HTTPException's response, else 500.
  if ('getResponse' in err && typeof err.getResponse === 'function') {
    const res = err.getResponse() as Response
    return c.newResponse(res.body, res)
  }
  console.error(err)
  return c.text('Internal Server Error', 500)
}
