import { type CoreSDKClient, problemFor } from '@coresdk/core'
import { describeAdapter } from '@coresdk/testing/vitest'
import Fastify from 'fastify'
import { coreSdkErrorHandler, coreSdkPlugin, logout } from '../src/index.ts'

async function createApp(sdk: CoreSDKClient) {
  const app = Fastify()
  await app.register(coreSdkPlugin, { sdk })
  app.setErrorHandler(coreSdkErrorHandler)
  app.get('/health', { config: { coresdk: { public: true } } }, async () => ({ status: 'ok' }))
  app.get('/api/me', async (request) => {
    const user = request.coresdk_user!
    return {
      sub: user.sub,
      email: user.email,
      session_id: request.coresdk_session?.id ?? null,
      degraded: request.coresdk_degraded,
    }
  })
  app.get('/api/sessions', async (request) => ({
    sessions: await sdk.sessions().listForUser(request.coresdk_user!.sub),
  }))
  app.delete<{ Params: { id: string } }>('/api/sessions/:id', async (request, reply) => {
    const session = await sdk.sessions().get(request.params.id)
    if (!session || session.userId !== request.coresdk_user!.sub) {
      const problem = problemFor('session_not_found', { realm: sdk.config.serviceName })
      return reply
        .code(problem.status)
        .headers(problem.headers)
        .send(Buffer.from(JSON.stringify(problem.body)))
    }
    await sdk.sessions().revoke(session.id)
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

describeAdapter('fastify', async (sdk) => {
  const app = await createApp(sdk)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
})
