import express from 'express'
import { describeAuthRoutes } from '../../../packages/oidc/test/describe-auth-routes.ts'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('express', async ({ sdk, routes, port }) => serve(createApp(sdk, { oidc: routes }), port))

describeAuthRoutes('express, behind express.urlencoded()', async ({ sdk, routes, port }) => {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(createApp(sdk, { oidc: routes }))
  return serve(app, port)
})
