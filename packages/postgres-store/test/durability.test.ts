import {
  makeSessionRecord,
  type PostgresServerProcess,
  requireServices,
  startPostgresServer,
} from '@coresdk/testing'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate } from '../src/index.ts'
import { openStore } from './helpers.ts'

// A cluster of its own, crashed on purpose, committing synchronously as a production server does (test clusters do
// not by default). Its WAL writer waits 10 s between flushes, so whatever a commit leaves unflushed is still unwritten
// when the server is killed.
let server: PostgresServerProcess | null = null
let reason = ''
try {
  server = await startPostgresServer({
    args: ['-c', 'synchronous_commit=on', '-c', 'wal_writer_delay=10000'],
  })
} catch (error) {
  reason = `no PostgreSQL cluster could be started (${(error as Error).message})`
  if (requireServices()) throw new Error(`${reason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
  console.warn(`skipped the crash tests: ${reason}`)
}
afterAll(() => server?.destroy())

async function revokedAt(url: string, tenant: string, id: string): Promise<number | null | undefined> {
  const opened = await openStore(url, { listener: false, commandTimeout: 5000 })
  try {
    return (await opened.store.get(tenant, id))?.revokedAt
  } finally {
    await opened.close()
  }
}

describe.skipIf(server === null)(`revocations and a crash of PostgreSQL ${reason}`, () => {
  it('a create, a revoke and a revoke-all that resolved survive an immediate crash (committed first, reported once durable)', async () => {
    const url = server!.url
    const admin = new pg.Pool({ connectionString: url, max: 1 })
    await migrate(admin)
    await admin.end()
    const tenant = 'crash'
    const opened = await openStore(url, { listener: false, commandTimeout: 5000 })
    const revoked = makeSessionRecord({ tenantId: tenant })
    const all = makeSessionRecord({ tenantId: tenant })
    await opened.store.create(tenant, revoked)
    await opened.store.create(tenant, all)
    const at = Date.now()
    await opened.store.revoke(tenant, revoked.id, at)
    await opened.store.revokeAllForUser(tenant, all.userId, at, 60_000)
    const created = makeSessionRecord({ tenantId: tenant })
    await opened.store.create(tenant, created, { maxPerUser: 5, atCap: 'revoke_oldest' })
    await opened.close()

    await server!.crash()
    await server!.start()
    expect(await revokedAt(url, tenant, revoked.id)).toBe(at)
    expect(await revokedAt(url, tenant, all.id)).toBe(at)
    expect(await revokedAt(url, tenant, created.id)).toBeNull()
  }, 60_000)

  it('the control: the revoke function alone, without the barrier, is lost in the same crash', async () => {
    // Shows that the test above can fail: the function commits without waiting for the WAL flush.
    const url = server!.url
    const tenant = 'crash-control'
    const opened = await openStore(url, { listener: false, commandTimeout: 5000 })
    const session = makeSessionRecord({ tenantId: tenant })
    await opened.store.create(tenant, session)
    const { createHash } = await import('node:crypto')
    const idHash = createHash('sha256')
      .update(JSON.stringify([tenant, session.id]))
      .digest()
    await opened.pool.query('SELECT * FROM public.coresdk_revoke_session($1, $2, $3)', [
      idHash,
      Date.now(),
      Date.now(),
    ])
    await opened.close()

    await server!.crash()
    await server!.start()
    expect(await revokedAt(url, tenant, session.id)).toBeNull()
  }, 60_000)
})
