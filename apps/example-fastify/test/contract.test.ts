import { fileURLToPath } from 'node:url'
import { describeExampleApp } from '@coresdk/testing/vitest'

describeExampleApp('example-fastify', fileURLToPath(new URL('..', import.meta.url)))
