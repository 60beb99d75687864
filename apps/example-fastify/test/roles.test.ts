import { describeRoleChecks } from '@coresdk/testing/vitest'
import { createApp } from '../src/app.ts'
import { serve } from './serve.ts'

describeRoleChecks('fastify', async (sdk) => serve(await createApp(sdk, { staff: true })))
