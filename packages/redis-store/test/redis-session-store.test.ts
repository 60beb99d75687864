import { describeSessionStore, ensureRedis, makeSessionRecord } from '@coresdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
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

  it('lets another instance find sessions of users whose ids a lossy encoding would merge, by id and by key', async () => {
    // A fresh instance knows no owner yet: it follows the pointer keys, which must keep every user id intact.
    const [clientA, clientB] = await Promise.all([connect(url), connect(url)])
    const a = createRedisSessionStore({ client: clientA, subscriber: null })
    const b = createRedisSessionStore({ client: clientB, subscriber: null })
    try {
      const tenant = `pointers-${Date.now()}`
      const users = ['\uD800', '\uDBFF', '\uFFFD', 'a\u0000b', '{u:x}', 'x'.repeat(10_240)]
      const sessions = users.map((userId) =>
        makeSessionRecord({ tenantId: tenant, userId, key: `sid:${userId}` }),
      )
      for (const session of sessions) await a.create(tenant, session)
      for (const session of sessions) {
        expect(await b.get(tenant, session.id)).toEqual(session)
        expect(await b.getByKey(tenant, session.key!)).toEqual(session)
      }
    } finally {
      await Promise.all([a.close(), b.close()])
      clientA.disconnect()
      clientB.disconnect()
    }
  })
})
