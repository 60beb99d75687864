import { describeAdapter } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAdapter('fastify', async (sdk) => serve(await createApp(sdk, { degraded: true })))
