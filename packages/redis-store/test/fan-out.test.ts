import type { RevocationEvent } from '@coresdk/core/store'
import { ensureRedis } from '@coresdk/testing'
import { makeSessionRecord } from '@coresdk/testing/vitest'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRedisSessionStore, type RedisSessionStore } from '../src/index.ts'
import { connect, percentile } from './helpers.ts'

const redis = await ensureRedis()
afterAll(() => redis.stop?.())

function waitForEvent(
  store: RedisSessionStore,
  match: (event: RevocationEvent) => boolean,
  timeoutMs = 2000,
): Promise<RevocationEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`no matching revocation within ${timeoutMs} ms`))
    }, timeoutMs)
    const unsubscribe = store.onRevocation((event) => {
      if (!match(event)) return
      clearTimeout(timer)
      unsubscribe()
      resolve(event)
    })
  })
}

describe.skipIf(redis.url === null)(`two instances on one Redis ${redis.reason ?? ''}`, () => {
  let clientA: Redis
  let clientB: Redis
  let a: RedisSessionStore
  let b: RedisSessionStore
  const tenant = `fanout_${Date.now()}`

  beforeEach(async () => {
    clientA = await connect(redis.url!)
    clientB = await connect(redis.url!)
    // A long staleness bound: whatever B sees in time, it learnt from the revocation message.
    a = createRedisSessionStore({ client: clientA, localCache: { maxStaleness: 60_000 } })
    b = createRedisSessionStore({ client: clientB, localCache: { maxStaleness: 60_000 } })
    await Promise.all([a.ready(), b.ready()])
  })

  afterEach(async () => {
    await Promise.all([a.close(), b.close()])
    clientA.disconnect()
    clientB.disconnect()
  })

  it("a session revoked on A is seen revoked by B's warm cache, without B asking Redis", async () => {
    const session = makeSessionRecord({ tenantId: tenant })
    await a.create(tenant, session)
    expect((await b.get(tenant, session.id))?.revokedAt).toBeNull()
    expect((await b.getByKey(tenant, session.key!))?.revokedAt).toBeNull()
    const heard = waitForEvent(b, (e) => e.kind === 'session' && e.sessionId === session.id)
    // B's command connection goes away: from now on B can only answer from its cache.
    clientB.disconnect()
    const at = Date.now()
    await a.revoke(tenant, session.id, at)
    await heard
    expect((await b.get(tenant, session.id))?.revokedAt).toBe(at)
    expect((await b.getByKey(tenant, session.key!))?.revokedAt).toBe(at)
  })

  it("a revoke-all on A drops the user's sessions from B's cache; B then reads them revoked", async () => {
    const session = makeSessionRecord({ tenantId: tenant })
    await a.create(tenant, session)
    expect((await b.get(tenant, session.id))?.revokedAt).toBeNull()
    expect(await b.getUserRevokedAt(tenant, session.userId)).toBeNull()
    const heard = waitForEvent(b, (e) => e.kind === 'user' && e.userId === session.userId)
    const at = Date.now()
    await a.revokeAllForUser(tenant, session.userId, at, 60_000)
    await heard
    expect((await b.get(tenant, session.id))?.revokedAt).toBe(at)
    expect(await b.getUserRevokedAt(tenant, session.userId)).toBe(at)
  })

  it('propagates 250 revocations from A to B and reports p50/p99', async () => {
    const samples: number[] = []
    const hitsBefore = b.stats().hits
    for (let i = 0; i < 250; i++) {
      const session = makeSessionRecord({ tenantId: tenant })
      await a.create(tenant, session)
      expect((await b.get(tenant, session.id))?.revokedAt).toBeNull()
      expect((await b.get(tenant, session.id))?.revokedAt).toBeNull()
      const heard = waitForEvent(b, (e) => e.kind === 'session' && e.sessionId === session.id)
      const start = performance.now()
      await a.revoke(tenant, session.id, Date.now())
      await heard
      samples.push(performance.now() - start)
      expect((await b.get(tenant, session.id))?.revokedAt).not.toBeNull()
    }
    // Two of B's three reads per round came from its cache.
    expect(b.stats().hits - hitsBefore).toBeGreaterThanOrEqual(500)
    const p50 = percentile(samples, 50).toFixed(2)
    const p99 = percentile(samples, 99).toFixed(2)
    const max = Math.max(...samples).toFixed(2)
    console.log(
      `revocation propagation A→B over ${samples.length} revocations: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
    )
    expect(samples).toHaveLength(250)
  })

  it('requests that miss the cache together send Redis one read, not one each', async () => {
    const client = await connect(redis.url!)
    // A short staleness bound, so that the entries expire within the test.
    const c = createRedisSessionStore({ client, localCache: { maxStaleness: 40 } })
    try {
      await c.ready()
      const session = makeSessionRecord({ tenantId: tenant })
      await a.create(tenant, session)
      await c.get(tenant, session.id)
      await c.getByKey(tenant, session.key!)
      await c.getUserRevokedAt(tenant, session.userId)
      await new Promise((resolve) => setTimeout(resolve, 60))
      let commands = 0
      const send = client.sendCommand.bind(client)
      client.sendCommand = ((...args: Parameters<typeof send>) => {
        commands++
        return send(...args)
      }) as typeof client.sendCommand
      const many = <T>(read: () => Promise<T>) => Promise.all(Array.from({ length: 50 }, read))
      const [byId, byKey, markers] = await Promise.all([
        many(() => c.get(tenant, session.id)),
        many(() => c.getByKey(tenant, session.key!)),
        many(() => c.getUserRevokedAt(tenant, session.userId)),
      ])
      expect(byId.every((r) => r?.id === session.id && r.revokedAt === null)).toBe(true)
      expect(byKey.every((r) => r?.id === session.id)).toBe(true)
      expect(markers.every((m) => m === null)).toBe(true)
      // One read each: the session by id (its owner is known), by key (pointer, then the record), the marker.
      expect(commands).toBeLessThanOrEqual(4)
    } finally {
      await c.close()
      client.disconnect()
    }
  })
})
