import { describeAuthRoutes } from '../../../packages/oidc/test/describe-auth-routes.ts'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('nestjs (platform-express)', async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes }), port),
)

describeAuthRoutes('nestjs (platform-express, bodyParser: false)', async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes, bodyParser: false }), port),
)

describeAuthRoutes('nestjs (platform-fastify)', async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes, platform: 'fastify' }), port),
)
