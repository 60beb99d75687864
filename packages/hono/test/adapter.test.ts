import type { AddressInfo } from 'node:net'
import { type CoreSDKClient, problemFor } from '@coresdk/core'
import { describeAdapter } from '@coresdk/testing/vitest'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { type CoreSdkVariables, coreSdkErrorHandler, coreSdkMiddleware, logout } from '../src/index.ts'

function createApp(sdk: CoreSDKClient) {
  const app = new Hono<{ Variables: CoreSdkVariables }>()
  app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
  app.get('/health', (c) => c.json({ status: 'ok' }))
  app.get('/api/me', (c) => {
    const user = c.get('coresdk_user')!
    return c.json({
      sub: user.sub,
      email: user.email,
      session_id: c.get('coresdk_session')?.id ?? null,
      degraded: c.get('coresdk_degraded'),
    })
  })
  app.get('/api/sessions', async (c) =>
    c.json({ sessions: await sdk.sessions().listForUser(c.get('coresdk_user')!.sub) }),
  )
  app.delete('/api/sessions/:id', async (c) => {
    const session = await sdk.sessions().get(c.req.param('id'))
    if (!session || session.userId !== c.get('coresdk_user')!.sub) {
      const problem = problemFor('session_not_found', { realm: sdk.config.serviceName })
      return new Response(JSON.stringify(problem.body), { status: problem.status, headers: problem.headers })
    }
    await sdk.sessions().revoke(session.id)
    return c.body(null, 204)
  })
  app.post('/auth/logout', async (c) => {
    await logout(c)
    return c.body(null, 204)
  })
  app.post('/auth/logout-all', async (c) => {
    await logout(c, { everywhere: true })
    return c.body(null, 204)
  })
  app.post('/auth/logout-others', async (c) => {
    await logout(c, { others: true })
    return c.body(null, 204)
  })
  app.onError(coreSdkErrorHandler)
  return app
}

describeAdapter('hono', async (sdk) => {
  const app = createApp(sdk)
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
})
