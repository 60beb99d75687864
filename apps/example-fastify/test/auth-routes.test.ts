import * as oidc from '@coresdk/oidc'
import { describeAuthRoutes } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('fastify', oidc, async ({ sdk, routes, port }) =>
  serve(await createApp(sdk, { oidc: routes }), port),
)
