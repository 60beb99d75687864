import * as oidc from '@coresdk/oidc'
import { describeAuthRoutes } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('nestjs (platform-express)', oidc, async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes }), port),
)

describeAuthRoutes('nestjs (platform-express, bodyParser: false)', oidc, async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes, bodyParser: false }), port),
)

describeAuthRoutes('nestjs (platform-fastify)', oidc, async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes, platform: 'fastify' }), port),
)
