import { fileURLToPath } from 'node:url'
import { describeExampleApp } from '@coresdk/testing'

describeExampleApp('example-express', fileURLToPath(new URL('..', import.meta.url)))
