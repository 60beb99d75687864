import type { AddressInfo } from 'node:net'
import type { CoreSDKClient } from '@coresdk/core'
import { describeRoleChecks } from '@coresdk/testing/vitest'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { type CoreSdkVariables, coreSdkMiddleware, requireRoles } from '../src/index.ts'

describeRoleChecks('hono', async (sdk: CoreSDKClient) => {
  const app = new Hono<{ Variables: CoreSdkVariables }>()
  app.use(coreSdkMiddleware(sdk, { optional: true, publicPaths: ['/public/*'] }))
  app.get('/public/staff', requireRoles('admin'), (c) => c.json({ sub: c.get('coresdk_user')!.sub }))
  app.get('/api/staff', requireRoles('admin', 'support'), (c) => c.json({ sub: c.get('coresdk_user')!.sub }))
  app.get('/api/audit', requireRoles({ allOf: ['admin', 'auditor'] }), (c) =>
    c.json({ sub: c.get('coresdk_user')!.sub }),
  )
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
})

it('refuses, when the app is built, a role requirement that names no role', () => {
  expect(() => requireRoles()).toThrow(expect.objectContaining({ code: 'invalid_config' }))
  expect(() => requireRoles({ allOf: [] })).toThrow(expect.objectContaining({ code: 'invalid_config' }))
})
