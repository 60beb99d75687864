import { ensurePostgres } from '@coresdk/testing'
import { describeSessionStore } from '@coresdk/testing/vitest'
import { afterAll, beforeAll, describe } from 'vitest'
import { createSchema, openStore, uniqueSchema } from './helpers.ts'

const postgres = await ensurePostgres()
afterAll(() => postgres.stop?.())
if (postgres.url === null) console.warn(`skipped: ${postgres.reason}`)

describe.skipIf(postgres.url === null)(`PostgresSessionStore ${postgres.reason ?? ''}`, () => {
  const url = postgres.url!
  const schema = uniqueSchema('conformance')
  let dropSchema: () => Promise<void>
  beforeAll(async () => {
    dropSchema = await createSchema(url, schema)
  })
  afterAll(() => dropSchema?.())

  describeSessionStore('PostgresSessionStore', async () => {
    const opened = await openStore(url, { schema })
    return { store: opened.store, cleanup: opened.close }
  })

  describeSessionStore(
    'PostgresSessionStore without its local cache',
    async () => {
      const opened = await openStore(url, { schema, localCache: false })
      return { store: opened.store, cleanup: opened.close }
    },
    { client: false },
  )
})
