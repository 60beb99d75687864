import type { RouteHandler } from '@coresdk/core'
import type { OidcHandlers } from '@coresdk/oidc'
import Fastify from 'fastify'
import { expect, expectTypeOf, it } from 'vitest'
import { authRoute } from '../src/index.ts'

// The OIDC routes through authRoute(), over HTTP against a real provider: apps/example-fastify/test/auth-routes.test.ts.
it('mounts any RouteHandler, the OIDC handlers among them', () => {
  expectTypeOf<OidcHandlers['backchannelLogout']>().toExtend<RouteHandler>()
  expectTypeOf(authRoute).parameter(0).toEqualTypeOf<RouteHandler>()
})

it('writes the answer as it is: headers, cookies appended, a body over 64 KiB refused with 413', async () => {
  const app = Fastify()
  const seen: Array<string | null | undefined> = []
  app.post(
    '/echo',
    authRoute(async (request) => {
      seen.push(request.body as string)
      return {
        status: 201,
        headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] },
        body: '{"ok":true}',
      }
    }),
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/echo`
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'logout_token=abc',
    })
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await response.text()).toBe('{"ok":true}')
    expect(seen).toEqual(['logout_token=abc'])
    const large = await fetch(url, { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) })
    expect(large.status).toBe(413)
    expect(seen).toHaveLength(1)
  } finally {
    await app.close()
  }
})
