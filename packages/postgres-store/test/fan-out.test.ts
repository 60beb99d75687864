import type { RevocationEvent } from '@coresdk/core/store'
import { ensurePostgres, makeSessionRecord } from '@coresdk/testing'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { PostgresSessionStore } from '../src/index.ts'
import { createSchema, openStore, percentile, uniqueSchema } from './helpers.ts'

const postgres = await ensurePostgres()
afterAll(() => postgres.stop?.())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function waitForEvent(
  store: PostgresSessionStore,
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

describe.skipIf(postgres.url === null)(`two instances on one PostgreSQL ${postgres.reason ?? ''}`, () => {
  const url = postgres.url!
  const schema = uniqueSchema('fanout')
  const tenant = `fanout_${Date.now()}`
  // B's listener connection carries a name of its own, so the test can find it in pg_stat_activity and cut it.
  const listenerName = `coresdk-test-listener-${Math.random().toString(36).slice(2)}`
  let dropSchema: () => Promise<void>
  let a: Awaited<ReturnType<typeof openStore>>
  let b: Awaited<ReturnType<typeof openStore>>

  beforeAll(async () => {
    dropSchema = await createSchema(url, schema)
  })
  afterAll(() => dropSchema?.())

  beforeEach(async () => {
    // A long staleness bound: whatever B sees in time, it learnt from the notification.
    a = await openStore(url, { schema, localCache: { maxStaleness: 60_000 } })
    b = await openStore(url, {
      schema,
      localCache: { maxStaleness: 60_000 },
      heartbeatInterval: 200,
      listener: () => new pg.Client({ connectionString: url, application_name: listenerName }),
    })
  })

  afterEach(async () => {
    await Promise.all([a.close(), b.close().catch(() => {})])
  })

  it("a session revoked on A is seen revoked by B's warm cache, without B asking PostgreSQL", async () => {
    const session = makeSessionRecord({ tenantId: tenant })
    await a.store.create(tenant, session)
    expect((await b.store.get(tenant, session.id))?.revokedAt).toBeNull()
    expect((await b.store.getByKey(tenant, session.key!))?.revokedAt).toBeNull()
    const heard = waitForEvent(b.store, (e) => e.kind === 'session' && e.sessionId === session.id)
    // B's pool goes away: from now on B can only answer from its cache.
    await b.pool.end()
    const at = Date.now()
    await a.store.revoke(tenant, session.id, at)
    await heard
    expect((await b.store.get(tenant, session.id))?.revokedAt).toBe(at)
    expect((await b.store.getByKey(tenant, session.key!))?.revokedAt).toBe(at)
  })

  it("a revoke-all on A drops the user's sessions from B's cache; B then reads them revoked", async () => {
    const session = makeSessionRecord({ tenantId: tenant })
    await a.store.create(tenant, session)
    expect((await b.store.get(tenant, session.id))?.revokedAt).toBeNull()
    expect(await b.store.getUserRevokedAt(tenant, session.userId)).toBeNull()
    const heard = waitForEvent(b.store, (e) => e.kind === 'user' && e.userId === session.userId)
    const at = Date.now()
    await a.store.revokeAllForUser(tenant, session.userId, at, 60_000)
    await heard
    expect((await b.store.get(tenant, session.id))?.revokedAt).toBe(at)
    expect(await b.store.getUserRevokedAt(tenant, session.userId)).toBe(at)
  })

  it('B distrusts its cache when its listener connection is cut, and trusts it again once listening', async () => {
    const session = makeSessionRecord({ tenantId: tenant })
    await a.store.create(tenant, session)
    await b.store.get(tenant, session.id)
    const hits = b.store.stats().hits
    await b.store.get(tenant, session.id)
    expect(b.store.stats().hits).toBe(hits + 1)

    const terminated = await a.pool.query(
      'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1',
      [listenerName],
    )
    expect(terminated.rows).toHaveLength(1)
    const deadline = Date.now() + 2000
    while (b.store.stats().trusted && Date.now() < deadline) await sleep(5)
    expect(b.store.stats().trusted).toBe(false)
    // A revocation made while B is not listening: B must read it from PostgreSQL, not answer from its cache.
    const at = Date.now()
    await a.store.revoke(tenant, session.id, at)
    expect((await b.store.get(tenant, session.id))?.revokedAt).toBe(at)
    expect(b.store.stats().hits).toBe(hits + 1)

    await b.store.ready(5000)
    const next = makeSessionRecord({ tenantId: tenant })
    await a.store.create(tenant, next)
    await b.store.get(tenant, next.id)
    const heard = waitForEvent(b.store, (e) => e.kind === 'session' && e.sessionId === next.id)
    await a.store.revoke(tenant, next.id, Date.now())
    await heard
    expect((await b.store.get(tenant, next.id))?.revokedAt).not.toBeNull()
  })

  it('propagates 250 revocations from A to B and reports p50/p99', async () => {
    const samples: number[] = []
    const hitsBefore = b.store.stats().hits
    for (let i = 0; i < 260; i++) {
      const session = makeSessionRecord({ tenantId: tenant })
      await a.store.create(tenant, session)
      expect((await b.store.get(tenant, session.id))?.revokedAt).toBeNull()
      expect((await b.store.get(tenant, session.id))?.revokedAt).toBeNull()
      const heard = waitForEvent(b.store, (e) => e.kind === 'session' && e.sessionId === session.id)
      const start = performance.now()
      await a.store.revoke(tenant, session.id, Date.now())
      await heard
      if (i >= 10) samples.push(performance.now() - start)
      expect((await b.store.get(tenant, session.id))?.revokedAt).not.toBeNull()
    }
    // Two of B's three reads per round came from its cache.
    expect(b.store.stats().hits - hitsBefore).toBeGreaterThanOrEqual(500)
    const p50 = percentile(samples, 50)
    const p99 = percentile(samples, 99)
    console.log(
      `revocation propagation A→B over ${samples.length} revocations: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`,
    )
    expect(samples).toHaveLength(250)
  })

  it('requests that miss the cache together send PostgreSQL one read, not one each', async () => {
    // A short staleness bound, so that the entries expire within the test.
    const c = await openStore(url, { schema, localCache: { maxStaleness: 40 } })
    try {
      const session = makeSessionRecord({ tenantId: tenant })
      await a.store.create(tenant, session)
      await c.store.get(tenant, session.id)
      await c.store.getByKey(tenant, session.key!)
      await c.store.getUserRevokedAt(tenant, session.userId)
      await sleep(60)
      let queries = 0
      const checkout = c.pool.connect.bind(c.pool)
      c.pool.connect = (() => {
        queries++
        return checkout()
      }) as typeof c.pool.connect
      const many = <T>(read: () => Promise<T>) => Promise.all(Array.from({ length: 50 }, read))
      const [byId, byKey, markers] = await Promise.all([
        many(() => c.store.get(tenant, session.id)),
        many(() => c.store.getByKey(tenant, session.key!)),
        many(() => c.store.getUserRevokedAt(tenant, session.userId)),
      ])
      expect(byId.every((r) => r?.id === session.id && r.revokedAt === null)).toBe(true)
      expect(byKey.every((r) => r?.id === session.id)).toBe(true)
      expect(markers.every((m) => m === null)).toBe(true)
      expect(queries).toBe(3)
    } finally {
      await c.close()
    }
  })
})
