import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { CoreSDKClient } from '@coresdk/core'
import { describeRoleChecks } from '@coresdk/testing/vitest'
import express from 'express'
import { expect, it } from 'vitest'
import { coreSdkMiddleware, requireRoles } from '../src/index.ts'

describeRoleChecks('express', async (sdk: CoreSDKClient) => {
  const app = express()
  app.use(coreSdkMiddleware(sdk, { optional: true, publicPaths: ['/public/*'] }))
  app.get('/api/staff', requireRoles('admin', 'support'), (req, res) => {
    res.json({ sub: req.coresdk_user!.sub })
  })
  app.get('/api/audit', requireRoles({ allOf: ['admin', 'auditor'] }), (req, res) => {
    res.json({ sub: req.coresdk_user!.sub })
  })
  app.get('/public/staff', requireRoles('admin'), (req, res) => {
    res.json({ sub: req.coresdk_user!.sub })
  })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
})

it('refuses, when the app is built, a role requirement that names no role', () => {
  expect(() => requireRoles()).toThrow(expect.objectContaining({ code: 'invalid_config' }))
  expect(() => requireRoles({ anyOf: [] })).toThrow(expect.objectContaining({ code: 'invalid_config' }))
})
