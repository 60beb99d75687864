import type { Claims, CoreSDKClient, HttpProblem, LogoutResult, Session } from '@coresdk/core'
import {
  type AdapterKitOptions,
  type AdapterRequest,
  type AdapterRoute,
  CoreSDKError,
  createAdapterKit,
  type HandleResult,
  type LogoutOptions,
  problemFromError,
  type RequestAuth,
  type RoleRequirement,
  type RouteHandler,
  roleRequirement,
  runAuthRoute,
} from '@coresdk/core/adapter'
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
type Incoming = { method?: string; url?: string; rawHeaders?: string[]; socket?: { remoteAddress?: string } }

/** The request as received: on Node, Node's own (asking Hono builds a Web Request); elsewhere the Web one. */
function requestOf(c: Context): AdapterRequest {
  const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming
  if (typeof incoming?.url === 'string' && Array.isArray(incoming.rawHeaders))
    return {
      method: incoming.method ?? c.req.method,
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

function send(c: Context, problem: HttpProblem, setCookie: readonly string[] = []): Response {
  for (const cookie of setCookie) c.header('set-cookie', cookie, { append: true })
  // Through the context, so cookies already set (a renewed session) go out with the problem.
  return c.body(JSON.stringify(problem.body), problem.status as ContentfulStatusCode, problem.headers)
}

function settle(c: Context<Env>, next: Next, result: HandleResult): Response | Promise<undefined> {
  if (!result.next) return send(c, result.problem, result.setCookie)
  for (const cookie of result.setCookie) c.header('set-cookie', cookie, { append: true })
  const auth = result.auth
  c.set('coresdk', auth)
  c.set('coresdk_user', auth.user)
  c.set('coresdk_session', auth.session)
  c.set('coresdk_degraded', auth.degraded)
  return next() as Promise<undefined>
}

/** No async function of its own: a warm request (answered without a promise) goes on in the same turn. */
function gate(kitOf: (c: Context) => RequestAuth['kit'], route: AdapterRoute): MiddlewareHandler<Env> {
  return ((c, next) => {
    const result = kitOf(c).handle(requestOf(c), route, c.get('coresdk'))
    if (result instanceof Promise) return result.then<Response | undefined>((r) => settle(c, next, r))
    return settle(c, next, result)
  }) as MiddlewareHandler<Env>
}

function kitOf(c: Context): RequestAuth['kit'] {
  const auth = c.get('coresdk') as RequestAuth | undefined
  if (!auth)
    throw new CoreSDKError('invalid_config', 'CoreSDK: coreSdkMiddleware(sdk) must run before this handler.')
  return auth.kit
}

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
  const kit = createAdapterKit(sdk, options)
  return gate(() => kit, {})
}

/** Refuses anonymous requests with the 401 problem (on a public path, it authenticates first). */
export function requireAuth(): MiddlewareHandler<Env> {
  return gate(kitOf, { optional: false })
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
  return gate(kitOf, { roles: roleRequirement(args) })
}

/**
 * Revokes the current session (all the user's with `everywhere`) and clears the session cookie; with `others`, revokes
 * the user's other sessions and keeps this one. The caller answers.
 * @example
 * app.post('/auth/logout', async (c) => { await logout(c); return c.body(null, 204) })
 */
export async function logout(c: Context, options: LogoutOptions = {}): Promise<LogoutResult> {
  const result = await kitOf(c).logout(c.get('coresdk'), options)
  for (const cookie of result.setCookie) c.header('set-cookie', cookie, { append: true })
  return result
}

/**
 * Mounts a framework-neutral route (such as `@coresdk/oidc`'s login and callback), its body limited to the kit's.
 * @example
 * app.get('/auth/login', authRoute(routes.login))
 */
export function authRoute(handler: RouteHandler): Handler {
  return async (c) => {
    const raw = c.req.raw
    const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming
    const input = {
      method: raw.method,
      // On Node the target as received (its Host is checked); elsewhere the runtime's absolute URL.
      url: typeof incoming?.url === 'string' ? incoming.url : c.req.url,
      protocol: c.req.url.startsWith('https:') ? 'https' : 'http',
      headers: raw.headers,
      remoteAddress: incoming?.socket?.remoteAddress,
      body: raw.body,
    }
    const auth = c.get('coresdk') as RequestAuth | undefined
    // Mounted without the middleware, the route still gets core's URL building and body limit.
    const answer = auth ? await auth.kit.route(handler, input) : await runAuthRoute(handler, input)
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const one of value) c.header(name, one, { append: true })
      else c.header(name, value)
    }
    // No body at all for an empty one: a 204 or 304 must not carry one.
    if (answer.body === '') return c.body(null, answer.status as StatusCode)
    return c.body(answer.body, answer.status as ContentfulStatusCode)
  }
}

/**
 * An `app.onError` handler: answers a `CoreSDKError` with core's problem; anything else as Hono would.
 * @example
 * app.onError(coreSdkErrorHandler)
 */
export function coreSdkErrorHandler(err: Error, c: Context): Response {
  if (err instanceof CoreSDKError) {
    const auth = c.get('coresdk') as RequestAuth | undefined
    return send(c, auth ? auth.kit.problemFor(err) : problemFromError(err))
  }
  // Hono's own default, which an onError handler replaces and cannot defer to: an HTTPException's response, else 500.
  if ('getResponse' in err && typeof err.getResponse === 'function') {
    const res = err.getResponse() as Response
    return c.newResponse(res.body, res)
  }
  console.error(err)
  return c.text('Internal Server Error', 500)
}
