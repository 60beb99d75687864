import type { CoreSDKClient } from '@coresdk/core'
import type { RouteHandler } from '@coresdk/core/adapter'
import type { OidcHandlers } from '@coresdk/oidc'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { expect, expectTypeOf, it } from 'vitest'
import { describeAuthRoutes } from '../../oidc/test/describe-auth-routes.ts'
import { authRoute, type CoreSdkVariables, coreSdkMiddleware } from '../src/index.ts'

function createApp(sdk: CoreSDKClient, routes: OidcHandlers) {
  const app = new Hono<{ Variables: CoreSdkVariables }>()
  app.use(coreSdkMiddleware(sdk, { publicPaths: ['/auth/*'] }))
  app.get('/auth/login', authRoute(routes.login))
  app.get('/auth/callback', authRoute(routes.callback))
  app.post('/auth/logout', authRoute(routes.logout))
  app.post(
    '/auth/logout-all',
    authRoute((req) => routes.logout(req, { everywhere: true })),
  )
  app.post('/auth/backchannel-logout', authRoute(routes.backchannelLogout))
  app.get('/api/me', (c) =>
    c.json({ sub: c.get('coresdk_user')!.sub, session_id: c.get('coresdk_session')?.id ?? null }),
  )
  return app
}

it('mounts any RouteHandler, the OIDC handlers among them', () => {
  expectTypeOf<OidcHandlers['backchannelLogout']>().toExtend<RouteHandler>()
  expectTypeOf(authRoute).parameter(0).toEqualTypeOf<RouteHandler>()
})

it('writes the answer as it is: headers, every cookie, no body for a 204, 413 over 64 KiB', async () => {
  const seen: unknown[] = []
  const app = new Hono()
  app.post(
    '/echo',
    authRoute(async (request) => {
      seen.push(request.body)
      return {
        status: request.body === 'empty' ? 204 : 201,
        headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] },
        body: request.body === 'empty' ? '' : '{"ok":true}',
      }
    }),
  )
  const created = await app.request('/echo', { method: 'POST', body: 'logout_token=abc' })
  expect(created.status).toBe(201)
  expect(created.headers.get('content-type')).toBe('application/json')
  expect(created.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
  expect(await created.text()).toBe('{"ok":true}')
  expect((await app.request('/echo', { method: 'POST', body: 'empty' })).status).toBe(204)
  const large = await app.request('/echo', { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) })
  expect(large.status).toBe(413)
  expect(seen).toEqual(['logout_token=abc', 'empty'])
})

describeAuthRoutes('hono', async ({ sdk, routes, port }) => {
  const app = createApp(sdk, routes)
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
})
