import { describeAdapter } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

for (const platform of ['express', 'fastify'] as const) {
  describeAdapter(`nestjs (platform-${platform})`, async (sdk) =>
    serve(await createApp(sdk, { platform, degraded: true })),
  )
}
