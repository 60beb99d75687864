import { ensureRedis } from '@coresdk/testing'
import { describeSessionStore } from '@coresdk/testing/vitest'
import { afterAll, describe } from 'vitest'
import { createRedisSessionStore } from '../src/index.ts'
import { connect } from './helpers.ts'

const redis = await ensureRedis()
afterAll(() => redis.stop?.())

if (redis.url === null) console.warn(`skipped: ${redis.reason}`)

describe.skipIf(redis.url === null)(`RedisSessionStore ${redis.reason ?? ''}`, () => {
  const url = redis.url!
  describeSessionStore('RedisSessionStore on one Redis node', async () => {
    const client = await connect(url)
    const store = createRedisSessionStore({ client })
    await store.ready()
    return {
      store,
      cleanup: async () => {
        await store.close()
        client.disconnect()
      },
    }
  })

  describeSessionStore(
    'RedisSessionStore without its local cache',
    async () => {
      const client = await connect(url)
      const store = createRedisSessionStore({ client, localCache: false, keyPrefix: 'coresdk-nocache' })
      await store.ready()
      return {
        store,
        cleanup: async () => {
          await store.close()
          client.disconnect()
        },
      }
    },
    { client: false },
  )
})
