import { describeAdapter } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

// Platform Express with the guard global; platform Fastify with forRootAsync and the guard on each controller.
describeAdapter('nestjs (platform-express)', async (sdk) => serve(await createApp(sdk, { degraded: true })))

describeAdapter('nestjs (platform-fastify)', async (sdk) =>
  serve(await createApp(sdk, { platform: 'fastify', wiring: 'controllers', degraded: true })),
)
