import { describeAdapter } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeAdapter('express', async (sdk) => serve(createApp(sdk, { degraded: true })))
