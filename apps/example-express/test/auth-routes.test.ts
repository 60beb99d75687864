import * as oidc from '@coresdk/oidc'
import { describeAuthRoutes } from '@coresdk/testing/vitest'
import express from 'express'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('express', oidc, async ({ sdk, routes, port }) =>
  serve(createApp(sdk, { oidc: routes }), port),
)

describeAuthRoutes('express, behind express.urlencoded()', oidc, async ({ sdk, routes, port }) => {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(createApp(sdk, { oidc: routes }))
  return serve(app, port)
})
