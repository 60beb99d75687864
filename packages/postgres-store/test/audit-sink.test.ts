import { CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { type AuditEntry, createAuditTrail, verifyAuditChain } from '@coresdk/core/audit'
import { ensurePostgres, freePort } from '@coresdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresAuditSink, createPostgresSessionStore, readPostgresAuditLog } from '../src/index.ts'
import { createSchema, openPool, uniqueSchema } from './helpers.ts'

const postgres = await ensurePostgres()
afterAll(() => postgres.stop?.())

const entry = (userId: string): AuditEntry => ({
  at: Date.now(),
  type: 'session.revoked',
  tenantId: 'acme',
  actor: 'idp',
  userId,
  sessionId: 'sess_01',
  reason: 'requested',
})

describe.skipIf(postgres.url === null)(`the PostgreSQL audit sink ${postgres.reason ?? ''}`, () => {
  const schema = uniqueSchema('audit')
  let drop: () => Promise<void>
  beforeAll(async () => {
    drop = await createSchema(postgres.url!, schema)
  })
  afterAll(async () => {
    await drop?.()
  })

  const readAll = async (pool: ReturnType<typeof openPool>, prefix?: string) => {
    const lines: string[] = []
    for await (const line of readPostgresAuditLog(
      pool,
      { schema, ...(prefix ? { tablePrefix: prefix } : {}) },
      7,
    ))
      lines.push(line)
    return lines
  }

  it('two instances (two pools) appending at once write one valid chain', async () => {
    const pools = [openPool(postgres.url!), openPool(postgres.url!)]
    const sinks = pools.map((pool) => createPostgresAuditSink({ pool, schema }))
    let total = 0
    await Promise.all(
      sinks.map(async (sink, instance) => {
        for (let i = 0; i < 30; i++) {
          const size = 1 + (i % 3)
          total += size
          const records = await sink.append(
            Array.from({ length: size }, (_, j) => entry(`usr_${instance}_${i}_${j}`)),
          )
          expect(records).toHaveLength(size)
        }
      }),
    )
    const lines = await readAll(pools[0]!)
    expect(lines).toHaveLength(total)
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: true, count: total })
    const users = lines.map((line) => JSON.parse(line).userId as string)
    expect(users.some((u) => u.startsWith('usr_0_'))).toBe(true)
    expect(users.some((u) => u.startsWith('usr_1_'))).toBe(true)
    // A changed row is found by the verifier.
    await pools[0]!.query(
      `UPDATE "${schema}"."coresdk_audit_log" SET record = replace(record, 'idp', 'user') WHERE seq = 5`,
    )
    expect(await verifyAuditChain(await readAll(pools[0]!))).toMatchObject({
      ok: false,
      position: 5,
      seq: 5,
      reason: 'altered',
    })
    for (const pool of pools) await pool.end()
  })

  it('two CoreSDK clients over the PostgreSQL store, each with a trail, audit concurrent revocations', async () => {
    const prefix = 'two_'
    const key = crypto.getRandomValues(new Uint8Array(32))
    const { migrate } = await import('../src/index.ts')
    const admin = openPool(postgres.url!)
    await migrate(admin, { schema, tablePrefix: prefix })
    await admin.end()
    const instances = [0, 1].map(() => {
      const pool = openPool(postgres.url!)
      const store = createPostgresSessionStore({ pool, schema, tablePrefix: prefix, listener: false })
      const sdk = new CoreSDKClient({
        env: {},
        tenantId: 'acme',
        jwt: { issuer: 'https://id.example', audience: 'api', algorithms: ['HS256'], secret: 'k'.repeat(32) },
        sessions: { store, encryptionKey: key },
      })
      const trail = createAuditTrail(sdk, {
        sink: createPostgresAuditSink({ pool, schema, tablePrefix: prefix }),
      })
      return { pool, sdk, trail }
    })
    await Promise.all(
      instances.flatMap(({ sdk }, n) =>
        Array.from({ length: 20 }, (_, i) =>
          sdk.sessions().revokeAllForUser(`usr_${n}_${i}`, { actor: 'admin' }),
        ),
      ),
    )
    for (const { trail } of instances) await trail.flush()
    const lines = await readAll(instances[0]!.pool, prefix)
    expect(lines).toHaveLength(40)
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: true, count: 40 })
    for (const { trail } of instances) expect(trail.lost).toBe(0)
    for (const { sdk, trail, pool } of instances) {
      await trail.close()
      await sdk.close()
      await pool.end()
    }
  })

  it('ids with control characters, NUL and lone surrogates are stored as JSON text and verify', async () => {
    const pool = openPool(postgres.url!)
    await pool.query(`TRUNCATE "${schema}"."coresdk_audit_log"`)
    const sink = createPostgresAuditSink({ pool, schema })
    const odd = "usr_\u0000\u001b[2J'; DROP TABLE x; --\ud800"
    await sink.append([entry(odd)])
    const lines = await readAll(pool)
    expect(JSON.parse(lines[0]!).userId).toBe(odd)
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: true, count: 1 })
    await pool.end()
  })

  it('an unreachable PostgreSQL fails the append within its deadline, as store_unavailable', async () => {
    const port = await freePort()
    const pool = openPool(`postgres://postgres@127.0.0.1:${port}/test`)
    const sink = createPostgresAuditSink({ pool, schema, timeout: 500 })
    const error = await sink.append([entry('usr_a')]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CoreSDKError)
    expect((error as CoreSDKError).code).toBe('store_unavailable')
    await pool.end()
  })
})
