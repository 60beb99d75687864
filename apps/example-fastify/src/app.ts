import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { authRoute, coreSdkErrorHandler, coreSdkPlugin, logout } from '@coresdk/fastify'
import { type OidcHandlers, oidcRoutes } from '@coresdk/oidc'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'

/** Options of {@link createApp}; without any, the app serves the example API (DESIGN §7) only. */
export interface AppOptions {
  /**
   * Sign-in through an OpenID provider: `GET /auth/login`, `GET /auth/callback` and `POST /auth/backchannel-logout`,
   * and `POST /auth/logout` (`-all`) ending the provider's session too.
   */
  oidc?: OidcHandlers
  /** Serve the staff routes, checked by role: `/api/staff`, `/api/audit` and `/public/staff`. @default false */
  staff?: boolean
  /** Add `degraded` to `/api/me`: true when the request passed while the session store was unreachable. @default false */
  degraded?: boolean
}

/** The example API (DESIGN §7) on Fastify, protected by CoreSDK. */
export async function createApp(sdk: CoreSDKClient, options: AppOptions = {}): Promise<FastifyInstance> {
  const { oidc, staff = false, degraded = false } = options
  const app = Fastify()
  await app.register(coreSdkPlugin, { sdk, publicPaths: staff ? ['/public/*'] : [] })
  // A CoreSDKError from a route (the store down, the 404 below) answers with core's problem; others as before.
  app.setErrorHandler(coreSdkErrorHandler)

  app.get('/health', { config: { coresdk: { public: true } } }, async () => ({ status: 'ok' }))

  app.get('/api/me', async (request) => {
    const user = request.coresdk_user! // set by coreSdkPlugin
    const me = { sub: user.sub, email: user.email, session_id: request.coresdk_session?.id ?? null }
    return degraded ? { ...me, degraded: request.coresdk_degraded } : me
  })

  app.get('/api/sessions', async (request) => ({
    sessions: await sdk.sessions().listForUser(request.coresdk_user!.sub),
  }))

  app.delete<{ Params: { id: string } }>('/api/sessions/:id', async (request, reply) => {
    const session = await sdk.sessions().get(request.params.id)
    // Someone else's session answers exactly like a missing one: no oracle on session ids.
    if (!session || session.userId !== request.coresdk_user!.sub) throw new CoreSDKError('session_not_found')
    await sdk.sessions().revoke(session.id, { actor: 'user' })
    return reply.code(204).send()
  })

  if (oidc) {
    // authRoute's routes are outside authentication, and read the back-channel logout form themselves.
    for (const route of oidcRoutes(oidc))
      app.route({ method: route.method, url: route.path, ...authRoute(route.handler) })
  } else {
    app.post('/auth/logout', async (request, reply) => {
      await logout(request, reply)
      return reply.code(204).send()
    })
    app.post('/auth/logout-all', async (request, reply) => {
      await logout(request, reply, { everywhere: true })
      return reply.code(204).send()
    })
  }

  if (staff) {
    const me = async (request: FastifyRequest) => ({ sub: request.coresdk_user!.sub })
    app.get('/api/staff', { config: { coresdk: { roles: ['admin', 'support'] } } }, me)
    app.get('/api/audit', { config: { coresdk: { roles: { allOf: ['admin', 'auditor'] } } } }, me)
    // Under a public path, yet checked: a route with roles is never public.
    app.get('/public/staff', { config: { coresdk: { roles: ['admin'] } } }, me)
  }

  app.post('/auth/logout-others', async (request, reply) => {
    await logout(request, reply, { others: true })
    return reply.code(204).send()
  })

  return app
}
