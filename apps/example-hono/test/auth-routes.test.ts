import { describeAuthRoutes } from '../../../packages/oidc/test/describe-auth-routes.ts'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAuthRoutes('hono', async ({ sdk, routes, port }) => serve(createApp(sdk, { oidc: routes }), port))
