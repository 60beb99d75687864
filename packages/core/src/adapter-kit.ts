import { AUTH_ROUTE_BODY_LIMIT, type AuthRouteRequest, runAuthRoute } from './auth-route.ts'
import { authenticateNow, CoreSDKClient } from './client.ts'
import type {
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  LogoutOptions,
  LogoutResult,
} from './engine.ts'
import { CoreSDKError, problemFor, problemFromError } from './errors.ts'
import { isPublicPath, type PublicPath } from './paths.ts'
import { type RoleRequirement } from './rbac.ts'
import type { RouteHandler, RouteResponse } from './route.ts'
import type { Session } from './session.ts'
import type { Claims, HttpProblem } from './types.ts'

/** A request as an adapter hands it over: nothing parsed, nothing folded. */
export interface AdapterRequest {
  /** The HTTP method. */
  method: string
  /** The request target as received (path and query), before any decoding or routing. */
  url: string
  /**
   * The headers as received: Node's `rawHeaders` (name, value, name, value, …), in which repeated headers stay
   * apart, or a Web `Headers`.
   */
  headers: readonly string[] | Headers
  /**
   * The socket's remote address (`req.socket.remoteAddress` on Node), when the runtime tells it: the client, or the
   * proxy whose forwarded header the `trustProxy` setting lets name the client. Read only when a session is created.
   */
  remoteAddress?: string | undefined
}

/** What a route asks of CoreSDK. A route with roles is never public. */
export interface AdapterRoute {
  /** Skip authentication. @default false, or a match in the kit's `publicPaths` */
  public?: boolean
  /** Let a request without any credential through as anonymous. @default the kit's `optional` */
  optional?: boolean
  /** The roles the route needs (any of a list; `{ anyOf, allOf }`): 401 when anonymous, 403 without them. */
  roles?: RoleRequirement
}

/** The outcome of authentication on one request: what an adapter stores on it, once. Frozen. */
export interface RequestAuth {
  /** The verified claims, or null when anonymous. */
  readonly user: Claims | null
  /** The caller's session; null when anonymous, or when the store was unreachable (`failMode: 'open'`). */
  readonly session: Session | null
  /** True when the request passed without the session check because the store was unreachable. */
  readonly degraded: boolean
  /** Whether the request was authenticated (false on a public route, which roles may still ask to check). */
  readonly checked: boolean
  /** The client that authenticated it. */
  readonly client: CoreSDKClient
  /** The kit that authenticated it, for the helpers that run later on the same request (roles, logout). */
  readonly kit: AdapterKit
}

/** What {@link AdapterKit.handle} tells the adapter to do: go on with `auth`, or answer `problem`; send `setCookie` either way. */
export type HandleResult =
  | { next: true; auth: RequestAuth; setCookie: readonly string[] }
  | { next: false; problem: HttpProblem; setCookie: readonly string[] }

/** Options of {@link createAdapterKit}: the settings every adapter's middleware or plugin takes. */
export interface AdapterKitOptions {
  /** Let requests without any credential through as anonymous; a bad credential is still refused. @default false */
  optional?: boolean
  /** Paths that skip authentication: exact (`/health`) or prefixes (`/public/*`), matched on the raw path. @default [] */
  publicPaths?: readonly PublicPath[]
  /**
   * The origins (`https://app.example.com`) a cookie-authenticated POST, PUT, PATCH or DELETE may come from.
   * @default the request's own origin (its `Host`)
   */
  allowedOrigins?: readonly string[]
  /**
   * The service's public base URL (`https://api.example.com`), from which auth routes build their URLs (redirect
   * URIs). Set it behind a proxy: without it the URL is built from the request's own `Host`.
   */
  publicUrl?: string
}

/** The HTTP rules every adapter applies through one call per request. */
export interface AdapterKit {
  /** The client. */
  readonly sdk: CoreSDKClient
  /** The most bytes an auth route's body may hold. */
  readonly bodyLimit: number
  /** The auth of a request not (yet) authenticated: what an adapter stores before calling {@link AdapterKit.handle}. */
  readonly anonymous: RequestAuth
  /**
   * Every HTTP rule of CoreSDK for one request: public paths (on the raw path), "a route with roles is never
   * public", optional authentication, the credential check, CSRF for cookie-authenticated unsafe methods, and roles.
   * `current` is what an earlier call stored on the request: it is reused, not checked again.
   *
   * The answer comes without a promise when nothing had to wait (a token verified before, its session held in this
   * process): an adapter that can go on synchronously saves the turn; any other simply awaits it.
   */
  handle(
    request: AdapterRequest,
    route?: AdapterRoute,
    current?: RequestAuth,
  ): HandleResult | Promise<HandleResult>
  /**
   * Revokes the request's session (all the user's with `everywhere`); the cookies to set clear it. With `others`, it
   * revokes the user's other sessions and keeps this one (no cookie to clear).
   */
  logout(auth: RequestAuth | undefined, options?: LogoutOptions): Promise<LogoutResult>
  /** The problem for anything a route threw: a `CoreSDKError`'s own, else the 500 `internal_error`. */
  problemFor(error: unknown): HttpProblem
  /** The 413 problem for an auth route's body over {@link AdapterKit.bodyLimit}. */
  tooLarge(): HttpProblem
  /**
   * Runs a framework-neutral route (the OIDC login, callback, logout): builds its URL (from `publicUrl`, else the
   * `Host`, refused with a 400 problem when it is not a host), reads its body up to {@link AdapterKit.bodyLimit}
   * (else the 413 problem) and returns the handler's answer for the adapter to write as it is.
   */
  route(handler: RouteHandler, request: AuthRouteRequest): Promise<RouteResponse>
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const NONE: readonly string[] = Object.freeze([])
const NO_ROUTE: AdapterRoute = Object.freeze({})

interface Read {
  authorization: string[]
  cookie: string | undefined
  userAgent: string | undefined
  forwardedFor: string | undefined
  forwarded: string | undefined
  origin: string | undefined
  fetchSite: string | undefined
  host: string | undefined
}

/** The few headers the rules read, from raw headers (repeats kept apart) or Web `Headers`. */
function readHeaders(headers: readonly string[] | Headers, forwarded: boolean): Read {
  const read: Read = {
    authorization: [],
    cookie: undefined,
    userAgent: undefined,
    forwardedFor: undefined,
    forwarded: undefined,
    origin: undefined,
    fetchSite: undefined,
    host: undefined,
  }
  if (!Array.isArray(headers)) {
    const web = headers as Headers
    // Web Headers join repeats with ", ", which no bearer token contains: the value is then malformed.
    const authorization = web.get('authorization')
    if (authorization !== null) read.authorization.push(authorization)
    read.cookie = web.get('cookie') ?? undefined
    read.userAgent = web.get('user-agent') ?? undefined
    // Two more lookups per request only when a proxy may name the client at all.
    if (forwarded) {
      read.forwardedFor = web.get('x-forwarded-for') ?? undefined
      read.forwarded = web.get('forwarded') ?? undefined
    }
    read.origin = web.get('origin') ?? undefined
    read.fetchSite = web.get('sec-fetch-site') ?? undefined
    read.host = web.get('host') ?? undefined
    return read
  }
  const raw = headers as readonly string[]
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    // Length first: most headers are none of these, and the test costs one comparison.
    switch (name.length) {
      case 13:
        if (name.toLowerCase() === 'authorization') read.authorization.push(raw[i + 1]!)
        break
      case 6:
        if (name.toLowerCase() === 'cookie')
          read.cookie = read.cookie === undefined ? raw[i + 1] : `${read.cookie}; ${raw[i + 1]}`
        else if (name.toLowerCase() === 'origin') read.origin = raw[i + 1]
        break
      case 10:
        if (name.toLowerCase() === 'user-agent') read.userAgent = raw[i + 1]
        break
      case 14:
        if (name.toLowerCase() === 'sec-fetch-site') read.fetchSite = raw[i + 1]
        break
      // Kept unparsed (and joined only when repeated): they are read only if this request creates a session.
      case 15:
        if (name.toLowerCase() === 'x-forwarded-for')
          read.forwardedFor = joinRepeat(read.forwardedFor, raw[i + 1]!)
        break
      case 9:
        if (name.toLowerCase() === 'forwarded') read.forwarded = joinRepeat(read.forwarded, raw[i + 1]!)
        break
      case 4:
        if (name.toLowerCase() === 'host') read.host = raw[i + 1]
        break
    }
  }
  return read
}

function joinRepeat(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`
}

/** Whether a state-changing, cookie-authenticated request comes from an allowed origin. */
function sameOrigin(read: Read, allowed: readonly string[] | undefined): boolean {
  if (read.origin !== undefined && read.origin !== 'null') {
    if (allowed !== undefined) return allowed.includes(read.origin)
    try {
      return read.host !== undefined && new URL(read.origin).host === read.host.toLowerCase()
    } catch {
      return false
    }
  }
  // No Origin (or an opaque one): the browser's own verdict, when it gave one. A client that sends neither is no
  // browser, and so no victim of a forged cross-site request.
  if (read.fetchSite !== undefined) return read.fetchSite === 'same-origin' || read.fetchSite === 'none'
  return read.origin === undefined
}

function freezeAuth(auth: RequestAuth): RequestAuth {
  return Object.freeze(auth)
}

/**
 * The adapter kit: every HTTP rule of CoreSDK behind one call per request, so that an adapter only translates its
 * framework's request and applies the answer.
 * @example
 * const kit = createAdapterKit(sdk, { publicPaths: ['/health'] })
 * const result = await kit.handle({ method: req.method, url: req.url, headers: req.rawHeaders })
 * if (!result.next) return send(result.problem)
 */
export function createAdapterKit(sdk: CoreSDKClient, options: AdapterKitOptions = {}): AdapterKit {
  if (!sdk || typeof sdk.authenticate !== 'function')
    throw new CoreSDKError('invalid_config', 'CoreSDK: an adapter takes a client: new CoreSDKClient(…).')
  const publicPaths = options.publicPaths ?? []
  const defaults: AuthenticateOptions = Object.freeze({ optional: options.optional ?? false })
  const allowedOrigins = options.allowedOrigins
  const realm = { realm: sdk.config.serviceName }
  const readsForwarded = sdk.config.trustProxy !== false && sdk.config.trustProxy !== 0
  let passPublic: HandleResult
  // The client's own pipeline when it is one (it may answer without a promise), else its public method.
  const authenticate =
    sdk instanceof CoreSDKClient
      ? (request: AuthenticateRequest, options: AuthenticateOptions) => authenticateNow(sdk, request, options)
      : (request: AuthenticateRequest, options: AuthenticateOptions) =>
          (sdk as CoreSDKClient).authenticate(request, options)
  // A result the client reuses (a warm request) gets the same RequestAuth, and its pass the same HandleResult.
  const auths = new WeakMap<AuthenticateResult, RequestAuth>()
  const passes = new WeakMap<RequestAuth, HandleResult>()

  /** The route's own rules on an authenticated request: optional authentication, then roles. */
  function decide(auth: RequestAuth, route: AdapterRoute, setCookie: readonly string[]): HandleResult {
    if (route.optional === false && auth.user === null)
      return { next: false, problem: problemFor('missing_credentials', realm), setCookie }
    if (route.roles !== undefined) {
      const decision = sdk.rbac().check(auth.user, route.roles)
      if (!decision.allowed) return { next: false, problem: decision.problem, setCookie }
    }
    if (setCookie.length > 0) return { next: true, auth, setCookie }
    let pass = passes.get(auth)
    if (pass === undefined) {
      pass = Object.freeze({ next: true, auth, setCookie: NONE })
      passes.set(auth, pass)
    }
    return pass
  }

  function authenticated(
    result: AuthenticateResult,
    request: AdapterRequest,
    read: Read,
    route: AdapterRoute,
  ): HandleResult {
    const setCookie = result.setCookie
    if (!result.ok) return { next: false, problem: result.problem, setCookie }
    if (result.via === 'cookie' && UNSAFE.has(request.method) && !sameOrigin(read, allowedOrigins))
      return { next: false, problem: problemFor('csrf_failed', realm), setCookie }
    let auth = auths.get(result)
    if (auth === undefined) {
      auth = freezeAuth({
        user: result.user,
        session: result.session,
        degraded: result.degraded,
        checked: true,
        client: sdk,
        kit,
      })
      if (Object.isFrozen(result)) auths.set(result, auth)
    }
    return decide(auth, route, setCookie)
  }

  const kit: AdapterKit = {
    sdk,
    anonymous: undefined as unknown as RequestAuth,
    bodyLimit: AUTH_ROUTE_BODY_LIMIT,

    handle(request, route = NO_ROUTE, current) {
      if (route.roles === undefined && (route.public === true || isPublicPath(request.url, publicPaths)))
        return current === undefined ? passPublic : { next: true, auth: current, setCookie: NONE }
      if (current?.checked) return decide(current, route, NONE)
      const read = readHeaders(request.headers, readsForwarded)
      const result = authenticate(
        {
          authorization: read.authorization.length === 1 ? read.authorization[0] : read.authorization,
          cookie: read.cookie,
          userAgent: read.userAgent,
          remoteAddress: request.remoteAddress,
          forwardedFor: read.forwardedFor,
          forwarded: read.forwarded,
        },
        route.optional === undefined ? defaults : { optional: route.optional },
      )
      if (result instanceof Promise) return result.then((r) => authenticated(r, request, read, route))
      return authenticated(result, request, read, route)
    },

    logout(auth, logoutOptions = {}) {
      return sdk.logout({
        session: auth?.session ?? null,
        user: auth?.user ?? null,
        everywhere: logoutOptions.everywhere ?? false,
        others: logoutOptions.others ?? false,
        degraded: auth?.degraded ?? false,
      })
    },

    problemFor(error) {
      return problemFromError(error, realm)
    },

    tooLarge() {
      return problemFor('payload_too_large', realm)
    },

    route(handler, request) {
      return runAuthRoute(handler, request, { publicUrl: options.publicUrl, realm: realm.realm })
    },
  }
  const anonymous = freezeAuth({
    user: null,
    session: null,
    degraded: false,
    checked: false,
    client: sdk,
    kit,
  })
  ;(kit as { anonymous: RequestAuth }).anonymous = anonymous
  passPublic = Object.freeze({ next: true, auth: anonymous, setCookie: NONE })
  return Object.freeze(kit)
}
