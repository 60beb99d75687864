import {
  type Claims,
  type CoreSDKClient,
  CoreSDKError,
  type HttpProblem,
  isPublicPath,
  type LogoutResult,
  type PublicPath,
  problemFromError,
  type RoleRequirement,
  roleRequirement,
  type Session,
} from '@coresdk/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export { authRoute } from './auth-route.ts'

/** Per-route settings, under the route's `config: { coresdk: { … } }`. */
export interface CoreSdkRouteConfig {
  /** Skip authentication on this route. @default false */
  public?: boolean
  /** Let requests without any credential through as anonymous on this route. @default the plugin's `optional` */
  optional?: boolean
  /**
   * The roles this route needs (`['admin', 'support']`: any of them; `{ allOf }`: every one), checked after
   * authentication: 401 when anonymous, 403 `forbidden` without them. A route with roles is never public.
   */
  roles?: RoleRequirement
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified claims of the caller, or null when anonymous (optional authentication, public route). */
    coresdk_user: Claims | null
    /** The caller's session; null when anonymous or when the store was unreachable (`failMode: 'open'`). */
    coresdk_session: Session | null
    /** True when the request passed without the session check because the store was unreachable. */
    coresdk_degraded: boolean
  }
  interface FastifyContextConfig {
    /** CoreSDK settings for this route. */
    coresdk?: CoreSdkRouteConfig
  }
}

/** Options of {@link coreSdkPlugin}. */
export interface CoreSdkPluginOptions {
  /** The client that authenticates requests. */
  sdk: CoreSDKClient
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

const clients = new WeakMap<FastifyRequest, CoreSDKClient>()

function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  // A Buffer, because Fastify appends a charset to the content type of a string payload.
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .send(Buffer.from(JSON.stringify(problem.body)))
}

const plugin: FastifyPluginAsync<CoreSdkPluginOptions> = async (app, options) => {
  const { sdk } = options
  if (!sdk || typeof sdk.authenticate !== 'function') {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK: register coreSdkPlugin with { sdk: new CoreSDKClient(…) }.',
    )
  }
  const publicPaths = options.publicPaths ?? []
  app.decorateRequest('coresdk_user', null)
  app.decorateRequest('coresdk_session', null)
  app.decorateRequest('coresdk_degraded', false)
  // A role requirement naming no role is a mistake in the app: refuse it when the route is declared.
  app.addHook('onRoute', (route) => {
    const roles = route.config?.coresdk?.roles
    if (roles !== undefined) roleRequirement([roles])
  })

  // onRequest runs before the body is read: a refused request never gets its body parsed.
  app.addHook('onRequest', async (request, reply) => {
    clients.set(request, sdk)
    const route = request.routeOptions.config?.coresdk
    const roles = route?.roles
    if (!roles && (route?.public || isPublicPath(request.raw.url ?? '', publicPaths))) return
    const { headers } = request
    const result = await sdk.authenticate(
      { authorization: headers.authorization, cookie: headers.cookie, userAgent: headers['user-agent'] },
      { optional: route?.optional ?? options.optional ?? false },
    )
    for (const cookie of result.setCookie) reply.header('set-cookie', cookie)
    if (!result.ok) return sendProblem(reply, result.problem)
    request.coresdk_user = result.user
    request.coresdk_session = result.session
    request.coresdk_degraded = result.degraded
    if (roles) {
      const decision = sdk.rbac().check(result.user, roles)
      if (!decision.allowed) return sendProblem(reply, decision.problem)
    }
  })
}

/**
 * Authenticates every request through `sdk.authenticate` (in `onRequest`) and puts the result on
 * `request.coresdk_user`, `request.coresdk_session` and `request.coresdk_degraded`; answers a refused request
 * with its problem. Opt a route out with `config: { coresdk: { public: true } }`; require roles with
 * `config: { coresdk: { roles: ['admin'] } }`.
 * @example
 * await app.register(coreSdkPlugin, { sdk, publicPaths: ['/health'] })
 * app.get('/api/me', async (request) => ({ sub: request.coresdk_user?.sub }))
 */
export const coreSdkPlugin = fp(plugin, { name: '@coresdk/fastify', fastify: '5.x' })

/**
 * An error handler for `app.setErrorHandler`: answers a `CoreSDKError` thrown by a route (the store down, a session
 * unknown, a logout that could not be written) with core's problem, such as the 503 `store_unavailable` with
 * `Retry-After`; rethrows any other error, so the next handler up (Fastify's default at the root) answers it as before.
 * The plugin does not set it itself: being global (`fastify-plugin`), it would take over the app's own error handler.
 * @example
 * await app.register(coreSdkPlugin, { sdk })
 * app.setErrorHandler(coreSdkErrorHandler)
 */
export function coreSdkErrorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (!(error instanceof CoreSDKError)) throw error
  return sendProblem(reply, problemFromError(error, { realm: clients.get(request)?.config.serviceName }))
}

/**
 * Revokes the current session (or, with `everywhere`, all the user's sessions) and clears the session cookie.
 * The caller sends the response.
 * @example
 * app.post('/auth/logout', async (request, reply) => { await logout(request, reply); return reply.code(204).send() })
 */
export async function logout(
  request: FastifyRequest,
  reply: FastifyReply,
  options: LogoutOptions = {},
): Promise<LogoutResult> {
  const sdk = clients.get(request)
  if (!sdk)
    throw new CoreSDKError('invalid_config', 'CoreSDK: register coreSdkPlugin before calling logout().')
  const result = await sdk.logout({
    session: request.coresdk_session,
    user: request.coresdk_user,
    everywhere: options.everywhere ?? false,
    degraded: request.coresdk_degraded,
  })
  for (const cookie of result.setCookie) reply.header('set-cookie', cookie)
  return result
}
