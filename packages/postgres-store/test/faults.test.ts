import { type AuthenticateResult, CoreSDKClient, CoreSDKError } from '@coresdk/core'
import {
  ensurePostgres,
  makeSessionRecord,
  type PostgresServerProcess,
  requireServices,
  startPostgresServer,
  TestIssuer,
} from '@coresdk/testing'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { migrate, type PostgresSessionStore } from '../src/index.ts'
import { type BlackHoleProxy, openStore, startBlackHoleProxy, uniqueSchema } from './helpers.ts'

const DEADLINE = 300
// One store call is bounded by DEADLINE; the margin is for a loaded 2-core machine shared with other test processes.
const CALL_LIMIT = DEADLINE + 700
// A request makes at most two store calls in a row (find the token's session, then create it).
const REQUEST_LIMIT = 2 * DEADLINE + 700
const HEARTBEAT = 200
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const shared = await ensurePostgres()
afterAll(() => shared.stop?.())

// The stop-and-restart scenario stops a cluster of its own: never the shared server.
let own: PostgresServerProcess | null = null
let ownReason = ''
try {
  own = await startPostgresServer()
} catch (error) {
  ownReason = `no PostgreSQL cluster could be started (${(error as Error).message})`
  if (requireServices()) throw new Error(`${ownReason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
  console.warn(`skipped the stop-and-restart faults: ${ownReason}`)
}
afterAll(() => own?.destroy())

/** Every operation of the store, each with fresh arguments. */
function everyCall(store: PostgresSessionStore, tenant: string): Array<[string, () => Promise<unknown>]> {
  const record = makeSessionRecord({ tenantId: tenant })
  return [
    ['get', () => store.get(tenant, record.id)],
    ['getByKey', () => store.getByKey(tenant, record.key!)],
    ['create', () => store.create(tenant, record)],
    ['create with limits', () => store.create(tenant, record, { maxPerUser: 3, atCap: 'revoke_oldest' })],
    ['update', () => store.update(tenant, record.id, { lastSeenAt: Date.now() })],
    ['revoke', () => store.revoke(tenant, record.id, Date.now())],
    ['revokeAllForUser', () => store.revokeAllForUser(tenant, record.userId, Date.now(), 60_000)],
    ['getUserRevokedAt', () => store.getUserRevokedAt(tenant, record.userId)],
    ['listForUser', () => store.listForUser(tenant, record.userId)],
    ['sweep', () => store.sweep()],
  ]
}

async function expectAllRejectWithin(store: PostgresSessionStore, tenant: string): Promise<void> {
  await Promise.all(
    everyCall(store, tenant).map(async ([name, call]) => {
      const start = performance.now()
      const outcome = await call().then(
        () => 'resolved',
        (error: unknown) => error,
      )
      const elapsed = performance.now() - start
      expect(outcome, name).toBeInstanceOf(CoreSDKError)
      expect((outcome as CoreSDKError).code, name).toBe('store_unavailable')
      expect(elapsed, `${name} took ${elapsed.toFixed(0)} ms`).toBeLessThan(CALL_LIMIT)
    }),
  )
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(50)
  }
}

/** How a fault is made and undone, against the store's URL and pool. */
interface Fault {
  name: string
  skip: string | null
  /** The URL the store connects to, the pool settings it uses, and the URL the test sets up and cleans up through. */
  prepare(): Promise<{ url: string; pool: pg.PoolConfig; adminUrl: string }>
  /** Whether the revocation listener loses its connection (the local cache is distrusted). */
  cutsListener: boolean
  inflict(pool: pg.Pool): Promise<void>
  heal(): Promise<void>
  cleanup(): Promise<void>
}

function stoppedServer(): Fault {
  return {
    name: 'the server stopped (fast shutdown) and restarted',
    skip: own === null ? ownReason : null,
    cutsListener: true,
    prepare: async () => ({ url: own!.url, pool: {}, adminUrl: own!.url }),
    inflict: () => own!.stop(),
    heal: () => own!.start(),
    cleanup: async () => {},
  }
}

function blackHole(): Fault {
  let proxy: BlackHoleProxy | null = null
  return {
    name: 'a black hole (a TCP relay that stops answering, connections left open)',
    skip: shared.url === null ? shared.reason : null,
    cutsListener: true,
    async prepare() {
      proxy = await startBlackHoleProxy(shared.url!)
      return { url: proxy.url, pool: {}, adminUrl: shared.url! }
    },
    inflict: async () => proxy!.hole(),
    heal: async () => proxy!.restore(),
    cleanup: async () => {
      await proxy?.close()
    },
  }
}

function exhaustedPool(): Fault {
  const held: pg.PoolClient[] = []
  return {
    name: 'the connection pool exhausted (every connection checked out and held)',
    skip: shared.url === null ? shared.reason : null,
    cutsListener: false,
    prepare: async () => ({ url: shared.url!, pool: { max: 2 }, adminUrl: shared.url! }),
    async inflict(pool) {
      held.push(await pool.connect(), await pool.connect())
    },
    heal: async () => {
      for (const client of held.splice(0)) client.release()
    },
    cleanup: async () => {
      for (const client of held.splice(0)) client.release()
    },
  }
}

/** What a verified token gets while the store is unreachable, per fail mode. */
function expectFailMode(result: AuthenticateResult, failMode: 'open' | 'closed', what: string): void {
  if (failMode === 'open') {
    expect(result.ok && result.degraded, `${what}: a degraded pass`).toBe(true)
  } else {
    expect(result.ok, what).toBe(false)
    if (!result.ok) {
      expect(result.problem.status, what).toBe(503)
      expect(result.problem.headers['retry-after'], what).toBeDefined()
    }
  }
}

const issuer = await TestIssuer.create({ alg: 'HS256', issuer: 'https://issuer.faults.test/' })

for (const makeFault of [stoppedServer, blackHole, exhaustedPool]) {
  for (const failMode of ['open', 'closed'] as const) {
    const fault = makeFault()
    describe.skipIf(fault.skip !== null)(`${fault.name}, failMode ${failMode} ${fault.skip ?? ''}`, () => {
      const cleanups: Array<() => Promise<void>> = []
      afterEach(async () => {
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
      })

      it('bounds every call by the deadline, applies the fail mode, keeps known revocations, and recovers by itself', async () => {
        const { url, pool: poolOptions, adminUrl } = await fault.prepare()
        cleanups.push(() => fault.cleanup())
        const schema = uniqueSchema(`faults_${failMode}`)
        const admin = new pg.Pool({ connectionString: adminUrl, max: 1 })
        admin.on('error', () => {})
        cleanups.push(async () => {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
          await admin.end()
        })
        await migrate(admin, { schema })
        const opened = await openStore(url, {
          schema,
          commandTimeout: DEADLINE,
          heartbeatInterval: HEARTBEAT,
          pool: { commandTimeout: DEADLINE, ...poolOptions },
        })
        cleanups.push(() => opened.close())
        const { store } = opened
        const tenant = `faults_${failMode}_${Math.random().toString(36).slice(2)}`
        const sdk = new CoreSDKClient({
          tenantId: tenant,
          serviceName: 'postgres-faults',
          env: {},
          jwt: issuer.jwtOptions(),
          sessions: { store, storeTimeout: DEADLINE },
          failMode,
        })
        cleanups.push(() => sdk.close())
        const bearer = (token: string) => sdk.authenticate({ authorization: `Bearer ${token}` })
        const mint = (name: string) => issuer.mint({ sub: `usr_${name}`, sid: `${name}-${Math.random()}` })

        const seen = await mint('seen')
        const revoked = await mint('revoked')
        const seenResult = await bearer(seen)
        const revokedResult = await bearer(revoked)
        expect(seenResult.ok && !seenResult.degraded && seenResult.session !== null).toBe(true)
        const revokedId = revokedResult.ok ? revokedResult.session!.id : ''
        await sdk.sessions().revoke(revokedId)
        expect((await bearer(revoked)).ok).toBe(false)
        const valid = await mint('forged')
        const forged = `${valid.slice(0, -4)}${valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`

        const inflicted = performance.now()
        await fault.inflict(opened.pool)
        if (fault.cutsListener) {
          // A closed socket is noticed at once; a black hole by the listener's heartbeat.
          await until(
            'the cache distrusted',
            async () => !store.stats().trusted,
            HEARTBEAT + CALL_LIMIT + 1000,
          )
        }
        await expectAllRejectWithin(store, tenant)
        for (const name of ['fresh-1', 'fresh-2']) {
          const start = performance.now()
          const result = await bearer(await mint(name))
          expect(performance.now() - start, name).toBeLessThan(REQUEST_LIMIT)
          expectFailMode(result, failMode, name)
        }
        if (fault.cutsListener) expectFailMode(await bearer(seen), failMode, 'a token seen before the fault')
        // What this instance knows stays enforced, whatever the fail mode; a bad signature never passes.
        const known = await bearer(revoked)
        expect(known.ok).toBe(false)
        if (!known.ok) expect(known.problem.status).toBe(401)
        const bad = await bearer(forged)
        expect(bad.ok).toBe(false)
        if (!bad.ok) expect(bad.problem.status).toBe(401)
        // A logout that cannot be written never reports success.
        await expect(sdk.sessions().revoke(revokedId)).rejects.toMatchObject({ code: 'store_unavailable' })

        const healed = performance.now()
        await fault.heal()
        await until('a verified token with a session again', async () => {
          const result = await bearer(await mint('after'))
          return result.ok && !result.degraded && result.session !== null
        })
        const recovered = performance.now()
        await store.ready(15_000)
        const after = await bearer(seen)
        expect(after.ok && !after.degraded, 'the seen token after recovery').toBe(true)
        // The revocation made before the fault is still in PostgreSQL (through a restart, too).
        expect((await store.get(tenant, revokedId))?.revokedAt).not.toBeNull()
        // Fan-out works again: a revocation comes back as a notification.
        const fresh = makeSessionRecord({ tenantId: tenant })
        await store.create(tenant, fresh)
        const heard = new Promise<void>((resolve) => {
          const off = store.onRevocation((event) => {
            if (event.kind === 'session' && event.sessionId === fresh.id) {
              off()
              resolve()
            }
          })
        })
        await store.revoke(tenant, fresh.id, Date.now())
        await heard
        console.log(
          `${fault.name}, failMode ${failMode}: faulty for ${(healed - inflicted).toFixed(0)} ms; ` +
            `sessions served from PostgreSQL again ${(recovered - healed).toFixed(0)} ms after the fault ended`,
        )
      }, 60_000)
    })
  }
}

describe.skipIf(shared.url === null)(`a pool with no wait limit of its own ${shared.reason ?? ''}`, () => {
  it('rejects a revoke by the store deadline, and never applies it once a connection frees up', async () => {
    const url = shared.url!
    const schema = uniqueSchema('unbounded')
    const admin = new pg.Pool({ connectionString: url, max: 1 })
    await migrate(admin, { schema })
    // node-postgres defaults: wait for a connection forever.
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    const { createPostgresSessionStore } = await import('../src/index.ts')
    const store = createPostgresSessionStore({ pool, schema, commandTimeout: DEADLINE, listener: false })
    try {
      const session = makeSessionRecord({ tenantId: 'unbounded' })
      await store.create('unbounded', session)
      const held = await pool.connect()
      const start = performance.now()
      await expect(store.revoke('unbounded', session.id, Date.now())).rejects.toMatchObject({
        code: 'store_unavailable',
      })
      expect(performance.now() - start).toBeLessThan(CALL_LIMIT)
      held.release()
      await sleep(300)
      expect((await store.get('unbounded', session.id))?.revokedAt).toBeNull()
    } finally {
      await store.close()
      await pool.end()
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.end()
    }
  })
})
