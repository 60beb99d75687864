import { describeRoleChecks } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeRoleChecks('hono', async (sdk) => serve(createApp(sdk, { staff: true })))
describeRoleChecks('hono, authenticated per route', async (sdk) =>
  serve(createApp(sdk, { staff: true, perRoute: true })),
)
