import { CoreSDKClient } from '@coresdk/core'
import { TestIssuer } from '@coresdk/testing'
import { expectForbidden } from '@coresdk/testing/vitest'
import Fastify from 'fastify'
import { expect, it } from 'vitest'
import { coreSdkPlugin } from '../src/index.ts'

// The role checks over HTTP (describeRoleChecks): apps/example-fastify/test/roles.test.ts.

it('a route with roles is checked even when a public path or `public: true` covers it', async () => {
  const issuer = await TestIssuer.create()
  const sdk = new CoreSDKClient({ env: {}, jwt: issuer.jwtOptions() })
  const app = Fastify()
  await app.register(coreSdkPlugin, { sdk, optional: true, publicPaths: ['/api/*'] })
  app.get('/api/staff', { config: { coresdk: { roles: ['admin', 'support'] } } }, async () => ({
    staff: true,
  }))
  app.get('/open', { config: { coresdk: { public: true, roles: ['admin'] } } }, async () => ({ open: true }))
  await app.ready()
  try {
    expect((await app.inject('/api/staff')).statusCode).toBe(401)
    expect((await app.inject('/open')).statusCode).toBe(401)
    const viewer = `Bearer ${await issuer.mint({ jti: 'v', roles: ['viewer'] })}`
    const response = await app.inject({ url: '/open', headers: { authorization: viewer } })
    expectForbidden(
      {
        status: response.statusCode,
        headers: response.headers as Record<string, string>,
        body: response.body,
        elapsed: 0,
      },
      'coresdk',
    )
  } finally {
    await app.close()
    await sdk.close()
  }
})

it('refuses, when the route is declared, a role requirement that names no role', async () => {
  const issuer = await TestIssuer.create()
  const sdk = new CoreSDKClient({ env: {}, jwt: issuer.jwtOptions() })
  const app = Fastify()
  await app.register(coreSdkPlugin, { sdk })
  expect(() => app.get('/x', { config: { coresdk: { roles: [] } } }, async () => ({}))).toThrow(
    expect.objectContaining({ code: 'invalid_config' }),
  )
  await app.close()
  await sdk.close()
})
