import { describeAdapter } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAdapter('hono', async (sdk) => serve(createApp(sdk, { degraded: true })))

// The same contract with each route authenticating in its own handler (withCoreSdk) instead of app.use.
describeAdapter('hono, authenticated per route', async (sdk) =>
  serve(createApp(sdk, { degraded: true, perRoute: true })),
)
