import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { coreSdkErrorHandler, coreSdkPlugin, logout } from '@coresdk/fastify'
import Fastify, { type FastifyInstance } from 'fastify'

/** The example API (DESIGN §7) on Fastify, protected by CoreSDK. */
export async function createApp(sdk: CoreSDKClient): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(coreSdkPlugin, { sdk })
  // A CoreSDKError from a route (the store down, the 404 below) answers with core's problem; others as before.
  app.setErrorHandler(coreSdkErrorHandler)

  app.get('/health', { config: { coresdk: { public: true } } }, async () => ({ status: 'ok' }))

  app.get('/api/me', async (request) => {
    const user = request.coresdk_user! // set by coreSdkPlugin
    return { sub: user.sub, email: user.email, session_id: request.coresdk_session?.id ?? null }
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

  app.post('/auth/logout', async (request, reply) => {
    await logout(request, reply)
    return reply.code(204).send()
  })

  app.post('/auth/logout-all', async (request, reply) => {
    await logout(request, reply, { everywhere: true })
    return reply.code(204).send()
  })

  app.post('/auth/logout-others', async (request, reply) => {
    await logout(request, reply, { others: true })
    return reply.code(204).send()
  })

  return app
}
