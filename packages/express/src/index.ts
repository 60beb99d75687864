import type { Claims, CoreSDKClient, HttpProblem, LogoutResult, Session } from '@coresdk/core'
import {
  type AdapterKitOptions,
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
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express'

declare global {
  namespace Express {
    interface Request {
      /** What CoreSDK found on this request: user, session, degraded, and the client (set by `coreSdkMiddleware`). */
      coresdk: RequestAuth | undefined
      /** The verified claims of the caller, or null when anonymous (optional authentication, public path). */
      coresdk_user: Claims | null
      /** The caller's session; null when anonymous or when the store was unreachable (`failMode: 'open'`). */
      coresdk_session: Session | null
      /** True when the request passed without the session check because the store was unreachable. */
      coresdk_degraded: boolean
    }
  }
}

/**
 * `coresdk_user`, `coresdk_session` and `coresdk_degraded` read `req.coresdk`, from Express's own request prototype
 * (which every app's requests inherit, mounted sub-apps included): adding four properties to each request object
 * costs V8 a map migration apiece, one costs one. An assignment gives the request its own value, as before.
 */
for (const [name, read] of [
  ['coresdk_user', (auth: RequestAuth | undefined) => auth?.user ?? null],
  ['coresdk_session', (auth: RequestAuth | undefined) => auth?.session ?? null],
  ['coresdk_degraded', (auth: RequestAuth | undefined) => auth?.degraded ?? false],
] as const) {
  Object.defineProperty(express.request, name, {
    configurable: true,
    get(this: Request) {
      return read(this.coresdk)
    },
    set(this: Request, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true })
    },
  })
}

/** Options of {@link coreSdkMiddleware}: `optional`, `publicPaths` (matched on the raw path) and `allowedOrigins`. */
export type CoreSdkMiddlewareOptions = AdapterKitOptions

/** Writes core's problem as it is, through Node's own API, so Express adds no charset. */
function send(res: Response, problem: HttpProblem, setCookie: readonly string[] = []): void {
  if (setCookie.length > 0) res.append('Set-Cookie', [...setCookie])
  res.statusCode = problem.status
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value)
  res.end(JSON.stringify(problem.body))
}

function settle(req: Request, res: Response, next: NextFunction, result: HandleResult): void {
  if (!result.next) {
    send(res, result.problem, result.setCookie)
    return
  }
  if (result.setCookie.length > 0) res.append('Set-Cookie', [...result.setCookie])
  // One property per request: the other three are getters over it (below).
  const auth = result.auth
  req.coresdk = auth
  // A request of another copy of Express (one this package did not resolve) has no such getters.
  if (!Reflect.has(req, 'coresdk_user')) {
    req.coresdk_user = auth.user
    req.coresdk_session = auth.session
    req.coresdk_degraded = auth.degraded
  }
  next()
}

/** Synchronous when it can be: a warm request (answered without a promise) goes on in the same turn. */
function gate(kitOf: (req: Request) => RequestAuth['kit'], route: AdapterRoute): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // The raw target (`originalUrl`), before Express decodes anything: no spelling of a route passes as public.
    // The peer's address is cached per connection by Node: reading it costs no system call on a warm request.
    const request = {
      method: req.method,
      url: req.originalUrl,
      headers: req.rawHeaders,
      remoteAddress: req.socket.remoteAddress,
    }
    const result = kitOf(req).handle(request, route, req.coresdk)
    if (result instanceof Promise) return result.then((r) => settle(req, res, next, r))
    settle(req, res, next, result)
  }
}

function kitOf(req: Request): RequestAuth['kit'] {
  if (!req.coresdk)
    throw new CoreSDKError('invalid_config', 'CoreSDK: coreSdkMiddleware(sdk) must run before this handler.')
  return req.coresdk.kit
}

/**
 * Authenticates every request and puts the result on `req.coresdk` (and `coresdk_user`, `coresdk_session`,
 * `coresdk_degraded`); answers a refused request with its problem.
 * @example
 * app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
 * app.get('/api/me', (req, res) => res.json({ sub: req.coresdk_user?.sub }))
 */
export function coreSdkMiddleware(
  sdk: CoreSDKClient,
  options: CoreSdkMiddlewareOptions = {},
): RequestHandler {
  const kit = createAdapterKit(sdk, options)
  return gate(() => kit, {})
}

/** Refuses anonymous requests with the 401 problem (on a public path, it authenticates first). */
export function requireAuth(): RequestHandler {
  return gate(kitOf, { optional: false })
}

/**
 * Lets a request through only when the user holds one of `roles` (or meets `{ anyOf, allOf }`): 401 when anonymous,
 * 403 `forbidden` without them. A route with roles is never public. Runs after `coreSdkMiddleware`.
 * @example
 * app.get('/admin', requireRoles('admin'), handler)
 */
export function requireRoles(requirement: RoleRequirement): RequestHandler
export function requireRoles(...roles: string[]): RequestHandler
export function requireRoles(...args: [RoleRequirement] | string[]): RequestHandler {
  return gate(kitOf, { roles: roleRequirement(args) })
}

/**
 * Revokes the current session (all the user's with `everywhere`) and clears the session cookie; with `others`, revokes
 * the user's other sessions and keeps this one. The caller answers.
 * @example
 * app.post('/auth/logout', async (req, res) => { await logout(req, res); res.status(204).end() })
 */
export async function logout(
  req: Request,
  res: Response,
  options: LogoutOptions = {},
): Promise<LogoutResult> {
  const result = await kitOf(req).logout(req.coresdk, options)
  if (result.setCookie.length > 0) res.append('Set-Cookie', result.setCookie)
  return result
}

/**
 * Mounts a framework-neutral route (such as `@coresdk/oidc`'s login and callback), its body limited to the kit's.
 * @example
 * app.get('/auth/login', authRoute(routes.login))
 */
export function authRoute(handler: RouteHandler): RequestHandler {
  return async (req: Request, res: Response) => {
    const input = {
      method: req.method,
      url: req.originalUrl,
      protocol: req.protocol,
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
      // A body parser that ran set req.body; otherwise the stream is read here, up to the limit.
      body: req.body !== undefined || req.readableEnded ? (req.body ?? null) : req,
    }
    // Mounted without the middleware, the route still gets core's URL building and body limit.
    const answer = req.coresdk
      ? await req.coresdk.kit.route(handler, input)
      : await runAuthRoute(handler, input)
    res.statusCode = answer.status
    for (const [name, value] of Object.entries(answer.headers)) {
      if (name !== 'set-cookie') res.setHeader(name, value)
      else if (value.length > 0) res.append('Set-Cookie', value)
    }
    res.end(answer.body)
  }
}

/**
 * Answers a `CoreSDKError` thrown by a route with core's problem (such as the 503 with `Retry-After`); passes any
 * other error on. Register it after the routes.
 * @example
 * app.use(coreSdkErrorHandler())
 */
export function coreSdkErrorHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    // A response already under way can only be cut off, which Express's own handler does.
    if (!(err instanceof CoreSDKError) || res.headersSent) return next(err)
    send(res, req.coresdk ? req.coresdk.kit.problemFor(err) : problemFromError(err))
  }
}
