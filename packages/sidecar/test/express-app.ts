import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type CoreSDKClient, problemFor } from '@coresdk/core'
import { coreSdkErrorHandler, coreSdkMiddleware, logout } from '@coresdk/express'
import type { AdapterServer } from '@coresdk/testing'
import express, { type Express, type Response } from 'express'

function sendNotFound(res: Response, sdk: CoreSDKClient) {
  const problem = problemFor('session_not_found', { realm: sdk.config.serviceName })
  res.status(problem.status).set(problem.headers).end(JSON.stringify(problem.body))
}

/** The adapter contract of `describeAdapter`, served by Express with `sdk`. */
export function createApp(sdk: CoreSDKClient): Express {
  const app = express()
  app.use(coreSdkMiddleware(sdk, { publicPaths: ['/health'] }))
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.get('/api/me', (req, res) => {
    const user = req.coresdk_user!
    res.json({
      sub: user.sub,
      email: user.email,
      session_id: req.coresdk_session?.id ?? null,
      degraded: req.coresdk_degraded,
    })
  })
  app.get('/api/sessions', async (req, res) => {
    res.json({ sessions: await sdk.sessions().listForUser(req.coresdk_user!.sub) })
  })
  app.delete('/api/sessions/:id', async (req, res) => {
    const session = await sdk.sessions().get(req.params.id)
    if (!session || session.userId !== req.coresdk_user!.sub) return sendNotFound(res, sdk)
    await sdk.sessions().revoke(session.id)
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
  app.use(coreSdkErrorHandler())
  return app
}

/** Serves {@link createApp} on an ephemeral port of 127.0.0.1. */
export async function serveApp(sdk: CoreSDKClient): Promise<AdapterServer> {
  const server = createApp(sdk).listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
