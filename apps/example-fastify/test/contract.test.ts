import { fileURLToPath } from 'node:url'
import { describeExampleApp } from '@coresdk/testing'

describeExampleApp('example-fastify', fileURLToPath(new URL('..', import.meta.url)))
