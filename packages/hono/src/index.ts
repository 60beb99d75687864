import {
  type Claims,
  type CoreSDKClient,
  isPublicPath,
  type LogoutResult,
  type PublicPath,
  type Session,
} from '@coresdk/core'
import type { Context, MiddlewareHandler } from 'hono'
import { bindClient, clientOf } from './request-client.ts'

export { authRoute } from './auth-route.ts'
export { coreSdkErrorHandler } from './error-handler.ts'
export { requireRoles } from './require-roles.ts'

/**
 * The variables the middleware sets, for `new Hono<{ Variables: CoreSdkVariables }>()`. They are also added to
 * Hono's `ContextVariableMap`, so `c.get('coresdk_user')` is typed in every app.
 */
export type CoreSdkVariables = {
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

function rawPath(url: string): string {
  // The path as the request carried it (Hono's own routing path is decoded): no spelling of a route passes as public.
  const start = url.indexOf('/', url.indexOf('://') + 3)
  return start === -1 ? '/' : url.slice(start)
}

/** Node's own request, which @hono/node-server passes as `c.env.incoming`; absent on other runtimes. */
interface IncomingLike {
  url?: string
  headers: Record<string, string | string[] | undefined>
}

function incomingOf(c: Context): IncomingLike | undefined {
  const incoming = (c.env as { incoming?: IncomingLike } | undefined)?.incoming
  return incoming && typeof incoming.headers === 'object' && typeof incoming.url === 'string'
    ? incoming
    : undefined
}

/**
 * Authenticates every request through `sdk.authenticate` and sets `coresdk_user`, `coresdk_session` and
 * `coresdk_degraded` on the context; answers a refused request with its problem. Runs on every Hono runtime.
 * @example
 * app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
 * app.get('/api/me', (c) => c.json({ sub: c.get('coresdk_user')?.sub }))
 */
export function coreSdkMiddleware(
  sdk: CoreSDKClient,
  options: CoreSdkMiddlewareOptions = {},
): MiddlewareHandler<{ Variables: CoreSdkVariables }> {
  const publicPaths = options.publicPaths ?? []
  return async (c, next) => {
    bindClient(c, sdk)
    c.set('coresdk_user', null)
    c.set('coresdk_session', null)
    c.set('coresdk_degraded', false)
    // On Node, read Node's request directly: asking Hono for a header builds a Web Headers object per request.
    const incoming = incomingOf(c)
    if (isPublicPath(incoming ? incoming.url! : rawPath(c.req.url), publicPaths)) return next()
    const result = await sdk.authenticate(
      incoming
        ? {
            authorization: incoming.headers.authorization,
            cookie: incoming.headers.cookie,
            userAgent: incoming.headers['user-agent'] as string | undefined,
          }
        : {
            authorization: c.req.header('authorization'),
            cookie: c.req.header('cookie'),
            userAgent: c.req.header('user-agent'),
          },
      { optional: options.optional ?? false },
    )
    if (!result.ok) {
      const headers = new Headers(result.problem.headers)
      for (const cookie of result.setCookie) headers.append('set-cookie', cookie)
      return new Response(JSON.stringify(result.problem.body), { status: result.problem.status, headers })
    }
    for (const cookie of result.setCookie) c.header('set-cookie', cookie, { append: true })
    c.set('coresdk_user', result.user)
    c.set('coresdk_session', result.session)
    c.set('coresdk_degraded', result.degraded)
    await next()
  }
}

/**
 * Revokes the current session (or, with `everywhere`, all the user's sessions) and clears the session cookie.
 * The caller sends the response.
 * @example
 * app.post('/auth/logout', async (c) => { await logout(c); return c.body(null, 204) })
 */
export async function logout(c: Context, options: LogoutOptions = {}): Promise<LogoutResult> {
  const result = await clientOf(c, 'logout()').logout({
    session: c.get('coresdk_session'),
    user: c.get('coresdk_user'),
    everywhere: options.everywhere ?? false,
    degraded: c.get('coresdk_degraded'),
  })
  for (const cookie of result.setCookie) c.header('set-cookie', cookie, { append: true })
  return result
}
