import type { Claims, Session } from '@coresdk/core'
import type * as Core from '@coresdk/core/adapter'
import { CoreSDKError, defineAdapter, nodeRequest, nodeRouteRequest } from '@coresdk/core/adapter'
import type { Response } from 'express'
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
} from 'express'

declare global {
  namespace Express {
    interface Request {
      /** What CoreSDK found on this request: user, session, degraded, and the client (set by `coreSdkMiddleware`). */
      coresdk: Core.RequestAuth | undefined
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
  ['coresdk_user', (auth: Core.RequestAuth | undefined) => auth?.user ?? null],
  ['coresdk_session', (auth: Core.RequestAuth | undefined) => auth?.session ?? null],
  ['coresdk_degraded', (auth: Core.RequestAuth | undefined) => auth?.degraded ?? false],
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
export type CoreSdkMiddlewareOptions = Core.AdapterKitOptions

const adapter = defineAdapter<Request, Response, NextFunction, void, RequestHandler>({
  setup: 'coreSdkMiddleware(sdk)',
  // The raw target (`originalUrl`), before Express decodes anything: no spelling of a route passes as public.
  request: (req) => nodeRequest(req, req.originalUrl),
  routeRequest: (req) => nodeRouteRequest(req, req.protocol, req.originalUrl, req.body),
  auth: (req) => req.coresdk,
  pass(auth, req, _res, next) {
    // One property per request: the other three are getters over it (above).
    req.coresdk = auth
    // A request of another copy of Express (one this package did not resolve) has no such getters.
    if (!Reflect.has(req, 'coresdk_user')) {
      req.coresdk_user = auth.user
      req.coresdk_session = auth.session
      req.coresdk_degraded = auth.degraded
    }
    next()
  },
  cookies: (setCookie, _req, res) => res.append('Set-Cookie', [...setCookie]),
  // Through Node's own API, so Express adds no charset.
  write(answer, _req, res) {
    res.statusCode = answer.status
    for (const [name, value] of Object.entries(answer.headers))
      if (name !== 'set-cookie') res.setHeader(name, value)
      else if (value.length > 0) res.append('Set-Cookie', value)
    res.end(answer.body)
  },
})

/**
 * Authenticates every request, putting the result on `req.coresdk` (and `coresdk_user`, …); answers a refusal.
 * @example
 * app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
 */
export const coreSdkMiddleware: Core.AdapterMiddleware<RequestHandler> = adapter.middleware

/** Refuses anonymous requests with the 401 problem (on a public path, it authenticates first). */
export const requireAuth: () => RequestHandler = adapter.requireAuth

/**
 * Lets a request through only with one of `roles` (or `{ anyOf, allOf }`): 401 when anonymous, else 403.
 * @example
 * app.get('/admin', requireRoles('admin'), handler)
 */
export const requireRoles: Core.RequireRoles<RequestHandler> = adapter.requireRoles

/**
 * Revokes the current session (all the user's with `everywhere`; the others with `others`); the caller answers.
 * @example
 * app.post('/auth/logout', async (req, res) => { await logout(req, res); res.status(204).end() })
 */
export const logout: Core.AdapterLogout<Request, Response> = adapter.logout

/**
 * Mounts a framework-neutral route (such as `@coresdk/oidc`'s login and callback), its body limited to the kit's.
 * @example
 * app.get('/auth/login', authRoute(routes.login))
 */
export const authRoute: (handler: Core.RouteHandler) => RequestHandler = adapter.authRoute

/**
 * Answers a `CoreSDKError` thrown by a route with core's problem; passes any other error on. Register it last.
 * @example
 * app.use(coreSdkErrorHandler())
 */
export function coreSdkErrorHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    // A response already under way can only be cut off, which Express's own handler does.
    if (!(err instanceof CoreSDKError) || res.headersSent) return next(err)
    adapter.error(err, req, res)
  }
}
