import { describeRoleChecks } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

for (const platform of ['express', 'fastify'] as const) {
  describeRoleChecks(`nestjs (platform-${platform})`, async (sdk) =>
    serve(await createApp(sdk, { platform, staff: true })),
  )
}
