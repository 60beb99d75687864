import {
  type Claims,
  type CoreSDKClient,
  isPublicPath,
  type LogoutResult,
  type PublicPath,
  problemFor,
  type Session,
} from '@coresdk/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { bindClient, clientOf, sendProblem } from './request-client.ts'

export { authRoute } from './auth-route.ts'
export { coreSdkErrorHandler } from './error-handler.ts'
export { requireRoles } from './require-roles.ts'

declare global {
  namespace Express {
    interface Request {
      /** The verified claims of the caller, or null when anonymous (optional authentication, public path). */
      coresdk_user: Claims | null
      /** The caller's session; null when anonymous or when the store was unreachable (`failMode: 'open'`). */
      coresdk_session: Session | null
      /** True when the request passed without the session check because the store was unreachable. */
      coresdk_degraded: boolean
    }
  }
}

/** Options of {@link coreSdkMiddleware}. */
export interface CoreSdkMiddlewareOptions {
  /** Let requests without any credential through as anonymous (`coresdk_user: null`); a bad credential is still refused. @default false */
  optional?: boolean
  /** Paths that skip authentication: exact (`/health`) or prefixes (`/public/*`), matched on the raw request path. @default [] */
  publicPaths?: readonly PublicPath[]
}

/** Options of {@link logout}. */
export interface LogoutOptions {
  /** Revoke every session of the user, not only the current one. @default false */
  everywhere?: boolean
}

/**
 * Authenticates every request through `sdk.authenticate` and puts the result on `req.coresdk_user`,
 * `req.coresdk_session` and `req.coresdk_degraded`; answers a refused request with its problem.
 * @example
 * app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
 * app.get('/api/me', (req, res) => res.json({ sub: req.coresdk_user?.sub }))
 */
export function coreSdkMiddleware(
  sdk: CoreSDKClient,
  options: CoreSdkMiddlewareOptions = {},
): RequestHandler {
  const publicPaths = options.publicPaths ?? []
  return async (req: Request, res: Response, next: NextFunction) => {
    bindClient(req, sdk)
    req.coresdk_user = null
    req.coresdk_session = null
    req.coresdk_degraded = false
    // The raw path, before Express decodes or lowercases anything, so no spelling of a route can pass as public.
    if (isPublicPath(req.originalUrl, publicPaths)) return next()
    const result = await sdk.authenticate(
      {
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        userAgent: req.headers['user-agent'],
      },
      { optional: options.optional ?? false },
    )
    if (result.setCookie.length > 0) res.append('Set-Cookie', result.setCookie)
    if (!result.ok) return sendProblem(res, result.problem)
    req.coresdk_user = result.user
    req.coresdk_session = result.session
    req.coresdk_degraded = result.degraded
    next()
  }
}

/**
 * Refuses anonymous requests with the 401 problem; use it on routes behind an optional `coreSdkMiddleware`.
 * @example
 * app.get('/api/me', requireAuth(), handler)
 */
export function requireAuth(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.coresdk_user) return next()
    sendProblem(res, problemFor('missing_credentials', { realm: clientOf(req).config.serviceName }))
  }
}

/**
 * Revokes the current session (or, with `everywhere`, all the user's sessions) and clears the session cookie.
 * The caller sends the response.
 * @example
 * app.post('/auth/logout', async (req, res) => { await logout(req, res); res.status(204).end() })
 */
export async function logout(
  req: Request,
  res: Response,
  options: LogoutOptions = {},
): Promise<LogoutResult> {
  const result = await clientOf(req).logout({
    session: req.coresdk_session,
    user: req.coresdk_user,
    everywhere: options.everywhere ?? false,
    degraded: req.coresdk_degraded,
  })
  if (result.setCookie.length > 0) res.append('Set-Cookie', result.setCookie)
  return result
}
