import type { AdapterKit, AdapterRequest, AdapterRoute, HandleResult, RequestAuth } from './adapter.ts'
import { type AuthRouteRequest, problemResponse, runAuthRoute } from './auth-route.ts'
import type { LogoutOptions, LogoutResult } from './engine.ts'
import { CoreSDKError, problemFromError } from './errors.ts'
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
export function nodeRequest(req: NodeRequestLike, url: string | undefined = req.url): AdapterRequest {
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

/** The kit behind a request's auth; throws the configuration error naming `setup` when it never ran. */
function mountedKit(auth: RequestAuth | null | undefined, setup: string): AdapterKit {
  if (!auth) throw new CoreSDKError('invalid_config', `CoreSDK: ${setup} must run before this handler.`)
  return auth.kit
}

/**
 * What an adapter tells {@link defineAdapter} about its framework: static functions of the request `a` and what
 * comes with it (`b`, `c`: the response, `next`), so that nothing is allocated for them per request.
 */
export interface AdapterIO<A, B, C, R> {
  /** The setup a helper needs before it (`coreSdkMiddleware(sdk)`), named by its error when it never ran. */
  setup: string
  /** The request as received. */
  request(a: A): AdapterRequest
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

/** The helpers every adapter exports, over its {@link AdapterIO}. */
export interface AdapterHelpers<A, B, C, R> {
  /** Middleware applying `route`'s rules through `kit`, else through the kit that authenticated the request. */
  gate(route: AdapterRoute, kit?: AdapterKit): Gate<A, B, C, R>
  /**
   * Logs the request's session out (see {@link AdapterKit.logout}) and sets the cookies that clear it; `kit` serves
   * when none authenticated the request.
   */
  logout(a: A, b: B, options?: LogoutOptions, kit?: AdapterKit): Promise<LogoutResult>
  /** Runs an auth route through the request's kit, else `kit`, else with core's defaults, and writes its answer. */
  route(handler: RouteHandler, request: AuthRouteRequest, a: A, b: B, kit?: AdapterKit): Promise<R>
  /** Writes the problem for anything a route threw, in the realm of the kit that saw the request. */
  error(error: unknown, a: A, b: B): R
}

/**
 * Every adapter's glue around the kit, written once: an adapter describes how to read and write its framework, and
 * exports the helpers. The middleware goes on in the same turn when the kit answers without a promise (warm path).
 * @example
 * const adapter = defineAdapter<Request, Response, NextFunction, void>({ setup: 'coreSdkMiddleware(sdk)', … })
 * export const requireAuth = () => adapter.gate({ optional: false })
 */
export function defineAdapter<A, B, C, R>(io: AdapterIO<A, B, C, R>): AdapterHelpers<A, B, C, R> {
  const apply = (result: HandleResult, a: A, b: B, c: C): R => {
    if (result.setCookie.length > 0) io.cookies(result.setCookie, a, b)
    if (result.next) return io.pass(result.auth, a, b, c)
    if (io.refuse !== undefined) return io.refuse(result.problem, a, b, c)
    return io.write(problemResponse(result.problem), a, b)
  }
  return {
    gate: (route, kit) => (a, b, c) => {
      const current = io.auth(a) ?? undefined
      const result = (kit ?? mountedKit(current, io.setup)).handle(io.request(a), route, current)
      if (!(result instanceof Promise)) return apply(result, a, b, c)
      if (io.fail === undefined) return result.then((r) => apply(r, a, b, c))
      result.then(
        (r) => apply(r, a, b, c),
        (error: unknown) => io.fail!(error, a, b, c),
      )
      return undefined
    },
    async logout(a, b, options = {}, kit = undefined) {
      const auth = io.auth(a)
      const result = await (kit ?? mountedKit(auth, io.setup)).logout(auth ?? undefined, options)
      if (result.setCookie.length > 0) io.cookies(result.setCookie, a, b)
      return result
    },
    async route(handler, request, a, b, kit = io.auth(a)?.kit) {
      return io.write(await (kit ? kit.route(handler, request) : runAuthRoute(handler, request)), a, b)
    },
    error(error, a, b) {
      const auth = io.auth(a)
      return io.write(problemResponse(auth ? auth.kit.problemFor(error) : problemFromError(error)), a, b)
    },
  }
}
