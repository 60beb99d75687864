/** A framework's request, reduced to what a route handler reads (a Web `Request` fits, given its text body). */
export interface RouteRequest {
  /** The full request URL, query included. */
  url: string | URL
  /** @default 'GET' */
  method?: string
  /** The request headers: a Web `Headers`, or Node's lower-cased header object. */
  headers: Headers | Record<string, string | string[] | undefined>
  /** The raw or parsed body (`application/x-www-form-urlencoded` for the routes that take one); null without one. */
  body?: string | URLSearchParams | Record<string, unknown> | null
  /** The socket's remote address, when the adapter knows it (recorded, with trusted proxies' headers, on a login's session). */
  remoteAddress?: string | undefined
}

/** The answer an adapter writes as it is. `set-cookie` is an array; every other header a string. */
export interface RouteResponse {
  status: number
  headers: Record<string, string | string[]>
  body: string
}

/**
 * A framework-neutral route (the OIDC login, callback, logout and back-channel logout routes are ones); every
 * adapter's `authRoute()` mounts one.
 * @example
 * const health: RouteHandler = async () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' })
 */
export type RouteHandler = (request: RouteRequest) => Promise<RouteResponse>
