import { ensureRedis } from '@coresdk/testing'
import { describeSessionStore, makeSessionRecord } from '@coresdk/testing/vitest'
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

  it('lists and revokes 1,200 sessions of one user in pages, none of them missed', async () => {
    const client = await connect(url)
    const store = createRedisSessionStore({ client, subscriber: null })
    try {
      const tenant = `pages-${Date.now()}`
      const userId = 'usr_many_pages'
      const limits = { maxPerUser: 1200, atCap: 'refuse' } as const
      const sessions = Array.from({ length: 1200 }, () => makeSessionRecord({ tenantId: tenant, userId }))
      for (let i = 0; i < sessions.length; i += 100)
        await Promise.all(sessions.slice(i, i + 100).map((s) => store.create(tenant, s, limits)))
      const listed = await store.listForUser(tenant, userId)
      expect(new Set(listed.map((s) => s.id))).toEqual(new Set(sessions.map((s) => s.id)))
      const at = Date.now()
      const revoked = await store.revokeAllForUser(tenant, userId, at, 60_000)
      expect(new Set(revoked)).toEqual(new Set(sessions.map((s) => s.id)))
      const after = await store.listForUser(tenant, userId)
      expect(after.filter((s) => s.revokedAt === null)).toEqual([])
      for (const s of sessions.slice(0, 50)) expect((await store.get(tenant, s.id))?.revokedAt).toBe(at)
    } finally {
      await store.close()
      client.disconnect()
    }
  })

  it('holds a user to 1,000 active sessions when create is given no limits', async () => {
    const client = await connect(url)
    const store = createRedisSessionStore({ client, subscriber: null })
    try {
      const tenant = `default-bound-${Date.now()}`
      const userId = 'usr_unbounded_caller'
      const sessions = Array.from({ length: 1001 }, () => makeSessionRecord({ tenantId: tenant, userId }))
      for (let i = 0; i < sessions.length; i += 100)
        await Promise.all(sessions.slice(i, i + 100).map((s) => store.create(tenant, s)))
      const active = (await store.listForUser(tenant, userId)).filter((s) => s.revokedAt === null)
      expect(active).toHaveLength(1000)
    } finally {
      await store.close()
      client.disconnect()
    }
  })
})
