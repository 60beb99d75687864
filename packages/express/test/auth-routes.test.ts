import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { CoreSDKClient } from '@coresdk/core'
import type { RouteHandler } from '@coresdk/core/adapter'
import type { OidcHandlers } from '@coresdk/oidc'
import express from 'express'
import { expectTypeOf, it } from 'vitest'
import { describeAuthRoutes } from '../../oidc/test/describe-auth-routes.ts'
import { authRoute, coreSdkMiddleware } from '../src/index.ts'

function createApp(sdk: CoreSDKClient, routes: OidcHandlers) {
  const app = express()
  app.use(coreSdkMiddleware(sdk, { publicPaths: ['/auth/*'] }))
  app.get('/auth/login', authRoute(routes.login))
  app.get('/auth/callback', authRoute(routes.callback))
  app.post('/auth/logout', authRoute(routes.logout))
  app.post(
    '/auth/logout-all',
    authRoute((req) => routes.logout(req, { everywhere: true })),
  )
  // No body parser: authRoute reads the back-channel logout form itself.
  app.post('/auth/backchannel-logout', authRoute(routes.backchannelLogout))
  app.get('/api/me', (req, res) => {
    res.json({ sub: req.coresdk_user!.sub, session_id: req.coresdk_session?.id ?? null })
  })
  return app
}

it('mounts any RouteHandler, the OIDC handlers among them', () => {
  expectTypeOf<OidcHandlers['backchannelLogout']>().toExtend<RouteHandler>()
  expectTypeOf(authRoute).parameter(0).toEqualTypeOf<RouteHandler>()
})

describeAuthRoutes('express', async ({ sdk, routes, port }) => {
  const server = createApp(sdk, routes).listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
})

describeAuthRoutes('express, behind express.urlencoded()', async ({ sdk, routes, port }) => {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(createApp(sdk, routes))
  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
})
