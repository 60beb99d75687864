import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { type CoreSdkVariables, coreSdkErrorHandler, coreSdkMiddleware, logout } from '@coresdk/hono'
import { Hono } from 'hono'

/** The example API (DESIGN §7) on Hono, protected by CoreSDK. Runs on Node here, and on any Hono runtime. */
export function createApp(sdk: CoreSDKClient): Hono<{ Variables: CoreSdkVariables }> {
  const app = new Hono<{ Variables: CoreSdkVariables }>()
  app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
  // A CoreSDKError from a route (the store down, the 404 below) answers with core's problem; others as before.
  app.onError(coreSdkErrorHandler)

  app.get('/health', (c) => c.json({ status: 'ok' }))

  app.get('/api/me', (c) => {
    const user = c.get('coresdk_user')! // set by coreSdkMiddleware
    return c.json({ sub: user.sub, email: user.email, session_id: c.get('coresdk_session')?.id ?? null })
  })

  app.get('/api/sessions', async (c) =>
    c.json({ sessions: await sdk.sessions().listForUser(c.get('coresdk_user')!.sub) }),
  )

  app.delete('/api/sessions/:id', async (c) => {
    const session = await sdk.sessions().get(c.req.param('id'))
    // Someone else's session answers exactly like a missing one: no oracle on session ids.
    if (!session || session.userId !== c.get('coresdk_user')!.sub) throw new CoreSDKError('session_not_found')
    await sdk.sessions().revoke(session.id, { actor: 'user' })
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

  return app
}
