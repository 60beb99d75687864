import * as oidc from '@coresdk/oidc'
import { describeAuthRoutes } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('hono', oidc, async ({ sdk, routes, port }) =>
  serve(createApp(sdk, { oidc: routes }), port),
)
describeAuthRoutes('hono, authenticated per route', oidc, async ({ sdk, routes, port }) =>
  serve(createApp(sdk, { oidc: routes, perRoute: true }), port),
)
