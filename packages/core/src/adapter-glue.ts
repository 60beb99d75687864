import {
  type AdapterKit,
  type AdapterKitOptions,
  type AdapterRequest,
  type AdapterRoute,
  createAdapterKit,
  type HandleResult,
  type RequestAuth,
} from './adapter-kit.ts'
import { type AuthRouteRequest, problemResponse, runAuthRoute } from './auth-route.ts'
import type { CoreSDKClient } from './client.ts'
import type { LogoutOptions, LogoutResult } from './engine.ts'
import { CoreSDKError, problemFromError } from './errors.ts'
import { type RoleRequirement, roleRequirement } from './rbac.ts'
import type { RouteHandler, RouteResponse } from './route.ts'
import type { HttpProblem } from './types.ts'

// What every adapter does around the kit, written once: read Node's request, apply an answer (at once on the warm
// path, later on a cold one), find the kit a helper needs, answer an error or an auth route.

/** Node's `http.IncomingMessage`, as far as the kit reads it (described here: core imports nothing from Node). */
export interface NodeRequestLike extends AsyncIterable<Uint8Array> {
  method?: string | undefined
  url?: string | undefined
  headers: Record<string, string | string[] | undefined>
  rawHeaders: string[]
  readableEnded: boolean
  socket?: { remoteAddress?: string | undefined } | null
}

/**
 * The request {@link AdapterKit.handle} takes, from Node's: raw headers (repeats kept apart), the socket's peer, and
 * `url`, the target as received where the framework rewrites `req.url` (Express's `originalUrl`).
 */
export function nodeRequest(
  req: Pick<NodeRequestLike, 'method' | 'url' | 'rawHeaders' | 'socket'>,
  url: string | undefined = req.url,
): AdapterRequest {
  // The peer's address is cached per connection by Node: reading it costs no system call on a warm request.
  return {
    method: req.method ?? 'GET',
    url: url ?? '/',
    headers: req.rawHeaders,
    remoteAddress: req.socket?.remoteAddress,
  }
}

/**
 * The request {@link AdapterKit.route} takes, from Node's: `body` when a parser read one, else the unread stream
 * (read by the kit, up to its limit), else nothing.
 */
export function nodeRouteRequest(
  req: NodeRequestLike,
  protocol: string,
  url: string | undefined = req.url,
  body?: unknown,
): AuthRouteRequest {
  return {
    method: req.method ?? 'GET',
    url: url ?? '/',
    protocol,
    headers: req.headers,
    remoteAddress: req.socket?.remoteAddress,
    body: body !== undefined ? (body as AuthRouteRequest['body']) : req.readableEnded ? null : req,
  }
}

/**
 * What an adapter tells {@link defineAdapter} about its framework: static functions of the request `a` and what
 * comes with it (`b`, `c`: the response, `next`), so that nothing is allocated for them per request.
 */
export interface AdapterIO<A, B, C, R> {
  /** The setup a helper needs before it (`coreSdkMiddleware(sdk)`), named by its error when it never ran. */
  setup: string
  /** The kit to use when none authenticated the request (Nest's module kit); without it, the error above. */
  kit?: AdapterKit
  /** The request as received. */
  request(a: A): AdapterRequest
  /** An auth route's request (see {@link nodeRouteRequest}). */
  routeRequest(a: A): AuthRouteRequest
  /** What an earlier call stored on the request, if any. */
  auth(a: A): RequestAuth | null | undefined
  /** Stores `auth` on the request and goes on. */
  pass(auth: RequestAuth, a: A, b: B, c: C): R
  /** Adds `Set-Cookie` values to those already set (called with at least one). */
  cookies(setCookie: readonly string[], a: A, b: B): void
  /** Writes an answer as it is (`set-cookie` an array, added to those already set). */
  write(answer: RouteResponse, a: A, b: B): R
  /** Refuses otherwise than by writing the problem (Nest throws it); its cookies are set already. */
  refuse?(problem: HttpProblem, a: A, b: B, c: C): R
  /** Where a cold request's failure goes, for a callback-style hook that must not be handed a promise. */
  fail?(error: unknown, a: A, b: B, c: C): void
}

/** A framework's middleware over one route's rules: its answer comes without a promise when the kit's does. */
export type Gate<A, B, C, R> = (a: A, b: B, c: C) => R | Promise<R> | undefined

/** An adapter's middleware factory (`coreSdkMiddleware`), in its framework's middleware type `M`. */
export type AdapterMiddleware<M> = (sdk: CoreSDKClient, options?: AdapterKitOptions) => M

/** An adapter's `logout`, over its framework's request and response. */
export type AdapterLogout<Req, Res> = (req: Req, res: Res, options?: LogoutOptions) => Promise<LogoutResult>

/** An adapter's `requireRoles`, in its framework's middleware type `M`. */
export interface RequireRoles<M> {
  /** Any one of the roles listed (`['a', 'b']`), or `{ anyOf, allOf }`. */
  (requirement: RoleRequirement): M
  /** Any one of these roles. */
  (...roles: string[]): M
}

/** The helpers every adapter exports, over its {@link AdapterIO}; `M` is the framework's middleware type. */
export interface AdapterHelpers<A, B, R, M> {
  /** Middleware applying `route`'s rules through `kit`, else through the kit that authenticated the request. */
  gate(route: AdapterRoute, kit?: AdapterKit): M
  /** Middleware authenticating every request with its own kit over `sdk`. */
  middleware: AdapterMiddleware<M>
  /** Middleware refusing anonymous requests with the 401 problem (on a public path, it authenticates first). */
  requireAuth(): M
  /** Middleware letting a request through only with one of `roles` (or `{ anyOf, allOf }`): 401 anonymous, else 403. */
  requireRoles: RequireRoles<M>
  /** Revokes the request's session (see {@link AdapterKit.logout}) and sets the cookies that clear it. */
  logout: AdapterLogout<A, B>
  /** A handler running an auth route through {@link AdapterKit.route} (core's defaults without a kit), writing its answer. */
  authRoute(handler: RouteHandler): (req: A, res: B) => Promise<R>
  /** Writes the problem for anything a route threw, in the realm of the kit that saw the request. */
  error(error: unknown, req: A, res: B): R
}

/**
 * Every adapter's glue around the kit, written once: an adapter describes how to read and write its framework, and
 * exports the helpers. The middleware goes on in the same turn when the kit answers without a promise (warm path).
 * @example
 * const adapter = defineAdapter<Request, Response, NextFunction, void, RequestHandler>({ setup: 'app.use(…)', … })
 * export const requireAuth = adapter.requireAuth
 */
export function defineAdapter<A, B, C, R, M = Gate<A, B, C, R>>(
  io: AdapterIO<A, B, C, R>,
): AdapterHelpers<A, B, R, M> {
  const kitOf = (auth: RequestAuth | null | undefined): AdapterKit => {
    const kit = auth?.kit ?? io.kit
    if (!kit) throw new CoreSDKError('invalid_config', `CoreSDK: ${io.setup} must run before this handler.`)
    return kit
  }
  const apply = (result: HandleResult, a: A, b: B, c: C): R => {
    if (result.setCookie.length > 0) io.cookies(result.setCookie, a, b)
    if (result.next) return io.pass(result.auth, a, b, c)
    if (io.refuse !== undefined) return io.refuse(result.problem, a, b, c)
    return io.write(problemResponse(result.problem), a, b)
  }
  const gate = (route: AdapterRoute, kit?: AdapterKit): M => {
    // A role requirement naming no role is a mistake in the app: refused where the route is declared.
    if (route.roles !== undefined) roleRequirement([route.roles])
    const middleware: Gate<A, B, C, R> = (a, b, c) => {
      const current = io.auth(a) ?? undefined
      const result = (kit ?? kitOf(current)).handle(io.request(a), route, current)
      if (!(result instanceof Promise)) return apply(result, a, b, c)
      if (io.fail === undefined) return result.then((r) => apply(r, a, b, c))
      result.then(
        (r) => apply(r, a, b, c),
        (error: unknown) => io.fail!(error, a, b, c),
      )
      return undefined
    }
    // The framework's own middleware type, which the adapter names: its shape is the adapter's to vouch for.
    return middleware as M
  }
  return {
    gate,
    middleware: (sdk, options) => gate({}, createAdapterKit(sdk, options)),
    requireAuth: () => gate({ optional: false }),
    requireRoles: (...args: [RoleRequirement] | string[]) => gate({ roles: roleRequirement(args) }),
    async logout(req, res, options: LogoutOptions = {}) {
      const auth = io.auth(req)
      const result = await kitOf(auth).logout(auth ?? undefined, options)
      if (result.setCookie.length > 0) io.cookies(result.setCookie, req, res)
      return result
    },
    authRoute: (handler) => async (req, res) => {
      const kit = io.auth(req)?.kit ?? io.kit
      const request = io.routeRequest(req)
      return io.write(await (kit ? kit.route(handler, request) : runAuthRoute(handler, request)), req, res)
    },
    error(error, req, res) {
      const auth = io.auth(req)
      return io.write(problemResponse(auth ? auth.kit.problemFor(error) : problemFromError(error)), req, res)
    },
  }
}
