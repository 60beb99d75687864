import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { coreSdkErrorHandler, coreSdkMiddleware, logout } from '@coresdk/express'
import express, { type Express } from 'express'

/** The example API (DESIGN §7) on Express, protected by CoreSDK. */
export function createApp(sdk: CoreSDKClient): Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' })
  })

  app.get('/api/me', (req, res) => {
    const user = req.coresdk_user! // set by coreSdkMiddleware
    res.json({ sub: user.sub, email: user.email, session_id: req.coresdk_session?.id ?? null })
  })

  app.get('/api/sessions', async (req, res) => {
    res.json({ sessions: await sdk.sessions().listForUser(req.coresdk_user!.sub) })
  })

  app.delete('/api/sessions/:id', async (req, res) => {
    const session = await sdk.sessions().get(req.params.id)
    // Someone else's session answers exactly like a missing one: no oracle on session ids.
    if (!session || session.userId !== req.coresdk_user!.sub) throw new CoreSDKError('session_not_found')
    await sdk.sessions().revoke(session.id, { actor: 'user' })
    res.status(204).end()
  })

  app.post('/auth/logout', async (req, res) => {
    await logout(req, res)
    res.status(204).end()
  })

  app.post('/auth/logout-all', async (req, res) => {
    await logout(req, res, { everywhere: true })
    res.status(204).end()
  })

  app.post('/auth/logout-others', async (req, res) => {
    await logout(req, res, { others: true })
    res.status(204).end()
  })

  // A CoreSDKError from a route (the store down, the 404 above) answers with core's problem, not an error page.
  app.use(coreSdkErrorHandler())

  return app
}
