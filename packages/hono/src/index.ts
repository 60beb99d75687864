import type {
  Claims,
  CoreSDKClient,
  LogoutOptions,
  LogoutResult,
  RoleRequirement,
  Session,
} from '@coresdk/core'
import type {
  AdapterKitOptions,
  AdapterRequest,
  RequestAuth,
  RouteHandler,
  RouteResponse,
} from '@coresdk/core/adapter'
import { CoreSDKError, createAdapterKit, defineAdapter, roleRequirement } from '@coresdk/core/adapter'
import type { Context, Handler, MiddlewareHandler, Next } from 'hono'
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status'

/** The context variables the middleware sets: `c.get('coresdk_user')`, … */
export type CoreSdkVariables = {
  /** What CoreSDK found on this request: user, session, degraded, and the client. */
  coresdk: RequestAuth
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
export type CoreSdkMiddlewareOptions = AdapterKitOptions

type Env = { Variables: CoreSdkVariables }
type Incoming = { url?: string; rawHeaders?: string[]; socket?: { remoteAddress?: string } }

/** The request as received: on Node, Node's own (asking Hono builds a Web Request); elsewhere the Web one. */
function requestOf(c: Context): AdapterRequest {
  const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming
  if (typeof incoming?.url === 'string' && Array.isArray(incoming.rawHeaders))
    return {
      method: c.req.method,
      url: incoming.url,
      headers: incoming.rawHeaders,
      remoteAddress: incoming.socket?.remoteAddress,
    }
  // Elsewhere (Workers, Bun, Deno) the runtime's peer address is not on the request: sessions record no address.
  // The path as the request carried it (Hono's routing path is decoded): no spelling of a route passes as public.
  const url = c.req.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  return { method: c.req.method, url: start === -1 ? '/' : url.slice(start), headers: c.req.raw.headers }
}

/** Writes core's answer through the context, so cookies already set (a renewed session) go out with it. */
function write(answer: RouteResponse, c: Context): Response {
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const one of value) c.header(name, one, { append: true })
    else c.header(name, value)
  }
  // No body at all for an empty one: a 204 or 304 must not carry one.
  if (answer.body === '') return c.body(null, answer.status as StatusCode)
  return c.body(answer.body, answer.status as ContentfulStatusCode)
}

// No async function of its own: a warm request (answered without a promise) goes on in the same turn.
const adapter = defineAdapter<Context<Env>, Next | undefined, undefined, Response | Promise<void>>({
  setup: 'coreSdkMiddleware(sdk)',
  request: requestOf,
  auth: (c) => c.get('coresdk') as RequestAuth | undefined,
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
  write,
})

/**
 * Authenticates every request and sets `coresdk`, `coresdk_user`, `coresdk_session` and `coresdk_degraded`;
 * answers a refused request with its problem.
 * @example
 * app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
 * app.get('/api/me', (c) => c.json({ sub: c.get('coresdk_user')?.sub }))
 */
export function coreSdkMiddleware(
  sdk: CoreSDKClient,
  options: CoreSdkMiddlewareOptions = {},
): MiddlewareHandler<Env> {
  return adapter.gate({}, createAdapterKit(sdk, options)) as MiddlewareHandler<Env>
}

/** Refuses anonymous requests with the 401 problem (on a public path, it authenticates first). */
export function requireAuth(): MiddlewareHandler<Env> {
  return adapter.gate({ optional: false }) as MiddlewareHandler<Env>
}

/**
 * Lets a request through only when the user holds one of `roles` (or meets `{ anyOf, allOf }`): 401 when anonymous,
 * 403 `forbidden` without them. A route with roles is never public. Runs after `coreSdkMiddleware`.
 * @example
 * app.get('/admin', requireRoles('admin'), handler)
 */
export function requireRoles(requirement: RoleRequirement): MiddlewareHandler<Env>
export function requireRoles(...roles: string[]): MiddlewareHandler<Env>
export function requireRoles(...args: [RoleRequirement] | string[]): MiddlewareHandler<Env> {
  return adapter.gate({ roles: roleRequirement(args) }) as MiddlewareHandler<Env>
}

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
export function authRoute(handler: RouteHandler): Handler {
  return async (c) => {
    const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming
    const input = {
      method: c.req.method,
      // On Node the target as received (its Host is checked); elsewhere the runtime's absolute URL.
      url: typeof incoming?.url === 'string' ? incoming.url : c.req.url,
      protocol: c.req.url.startsWith('https:') ? 'https' : 'http',
      headers: c.req.raw.headers,
      remoteAddress: incoming?.socket?.remoteAddress,
      body: c.req.raw.body,
    }
    return adapter.route(handler, input, c, undefined) as Promise<Response>
  }
}

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
