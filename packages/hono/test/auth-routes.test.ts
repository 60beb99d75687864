import type { RouteHandler } from '@coresdk/core'
import type { OidcHandlers } from '@coresdk/oidc'
import { Hono } from 'hono'
import { expect, expectTypeOf, it } from 'vitest'
import { authRoute } from '../src/index.ts'

// The OIDC routes through authRoute(), over HTTP against a real provider: apps/example-hono/test/auth-routes.test.ts.
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
