import { inspect } from 'node:util'
import { CoreSDKError } from '@coresdk/core'
import type { RevocationEvent, SessionRecord } from '@coresdk/core/store'
import { ensurePostgres, makeSessionRecord } from '@coresdk/testing'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { migrate, type PostgresSessionStore, SCHEMA_VERSION, schemaVersion } from '../src/index.ts'
import { createSchema, openPool, openStore, uniqueSchema } from './helpers.ts'

const postgres = await ensurePostgres()
afterAll(() => postgres.stop?.())
if (postgres.url === null) console.warn(`skipped: ${postgres.reason}`)

const active = (records: SessionRecord[], now = Date.now()) =>
  records.filter((r) => r.revokedAt === null && r.expiresAt > now && r.absoluteExpiresAt > now)

function waitForEvent(
  store: PostgresSessionStore,
  match: (event: RevocationEvent) => boolean,
  timeoutMs = 3000,
): Promise<RevocationEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no matching revocation within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = store.onRevocation((event) => {
      if (!match(event)) return
      clearTimeout(timer)
      off()
      resolve(event)
    })
  })
}

/** A string of `length` random UTF-16 code units: lone surrogates, NUL and every control character included. */
function randomUnits(length: number): string {
  const units = crypto.getRandomValues(new Uint16Array(length))
  return String.fromCharCode(...units)
}

describe.skipIf(postgres.url === null)(`the PostgreSQL store's own rules ${postgres.reason ?? ''}`, () => {
  const url = postgres.url!
  const schema = uniqueSchema('rules')
  let dropSchema: () => Promise<void>
  let opened: Awaited<ReturnType<typeof openStore>>
  let store: PostgresSessionStore
  let tenant: string

  beforeAll(async () => {
    dropSchema = await createSchema(url, schema)
  })
  afterAll(() => dropSchema?.())
  beforeEach(async () => {
    opened = await openStore(url, { schema })
    store = opened.store
    tenant = `rules_${Math.random().toString(36).slice(2)}`
  })
  afterEach(() => opened.close())

  describe('the per-user cap', () => {
    it('revoke_oldest: the sixth session of a user capped at five revokes the oldest, and says so', async () => {
      const userId = 'usr_capped'
      const sessions = Array.from({ length: 6 }, (_, i) =>
        makeSessionRecord({ tenantId: tenant, userId, createdAt: Date.now() + i }),
      )
      for (const session of sessions.slice(0, 5))
        await store.create(tenant, session, { maxPerUser: 5, atCap: 'revoke_oldest' })
      const heard = waitForEvent(store, (e) => e.kind === 'session' && e.sessionId === sessions[0]!.id)
      const sixth = await store.create(tenant, sessions[5]!, { maxPerUser: 5, atCap: 'revoke_oldest' })
      expect(sixth.created).toBe(true)
      // At once, from this instance's own cache too: not only once the notification is back.
      expect((await store.get(tenant, sessions[0]!.id))?.revokedAt).not.toBeNull()
      expect(await heard).toMatchObject({ kind: 'session', tenantId: tenant, userId, key: sessions[0]!.key })
      const list = await store.listForUser(tenant, userId)
      expect(active(list).map((r) => r.id)).toEqual(sessions.slice(1).map((s) => s.id))
      expect((await store.get(tenant, sessions[0]!.id))?.revokedAt).not.toBeNull()
    })

    it('revoke_oldest after the cap was lowered: one create brings five active sessions down to two', async () => {
      const userId = 'usr_lowered'
      const older = Array.from({ length: 5 }, (_, i) =>
        makeSessionRecord({ tenantId: tenant, userId, createdAt: Date.now() + i }),
      )
      for (const session of older)
        await store.create(tenant, session, { maxPerUser: 10, atCap: 'revoke_oldest' })
      const newest = makeSessionRecord({ tenantId: tenant, userId, createdAt: Date.now() + 10 })
      await store.create(tenant, newest, { maxPerUser: 2, atCap: 'revoke_oldest' })
      const list = await store.listForUser(tenant, userId)
      expect(active(list).map((r) => r.id)).toEqual([older[4]!.id, newest.id])
    })

    it('refuse: the sixth session is refused with session_limit, and nothing is stored', async () => {
      const userId = 'usr_refused'
      for (let i = 0; i < 5; i++)
        await store.create(tenant, makeSessionRecord({ tenantId: tenant, userId }), {
          maxPerUser: 5,
          atCap: 'refuse',
        })
      const sixth = makeSessionRecord({ tenantId: tenant, userId })
      await expect(store.create(tenant, sixth, { maxPerUser: 5, atCap: 'refuse' })).rejects.toMatchObject({
        code: 'session_limit',
      })
      expect(await store.get(tenant, sixth.id)).toBeNull()
      expect(active(await store.listForUser(tenant, userId))).toHaveLength(5)
    })

    it('a touch never brings an expired session back past the cap', async () => {
      const userId = 'usr_touched'
      const limits = { maxPerUser: 1, atCap: 'refuse' } as const
      const lapsed = makeSessionRecord({ tenantId: tenant, userId, expiresAt: Date.now() + 100 })
      await store.create(tenant, lapsed, limits)
      await new Promise((resolve) => setTimeout(resolve, 150))
      const current = makeSessionRecord({ tenantId: tenant, userId })
      await store.create(tenant, current, limits)
      const touched = await store.update(tenant, lapsed.id, {
        lastSeenAt: Date.now(),
        expiresAt: Date.now() + 60_000,
      })
      expect(touched?.expiresAt).toBe(lapsed.expiresAt)
      expect(active(await store.listForUser(tenant, userId)).map((r) => r.id)).toEqual([current.id])
      // An active session's touch still slides its expiry.
      const later = Date.now() + 120_000
      expect((await store.update(tenant, current.id, { expiresAt: later }))?.expiresAt).toBe(later)
    })

    it('neither counts expired nor revoked sessions, nor another tenant’s, against the cap', async () => {
      const userId = 'usr_mixed'
      const now = Date.now()
      await store.create(tenant, makeSessionRecord({ tenantId: tenant, userId, expiresAt: now - 1 }))
      const revoked = makeSessionRecord({ tenantId: tenant, userId })
      await store.create(tenant, revoked)
      await store.revoke(tenant, revoked.id, now)
      await store.create(`${tenant}_other`, makeSessionRecord({ tenantId: `${tenant}_other`, userId }))
      await store.create(tenant, makeSessionRecord({ tenantId: tenant, userId }), {
        maxPerUser: 1,
        atCap: 'refuse',
      })
      await expect(
        store.create(tenant, makeSessionRecord({ tenantId: tenant, userId }), {
          maxPerUser: 1,
          atCap: 'refuse',
        }),
      ).rejects.toBeInstanceOf(CoreSDKError)
    })

    for (const atCap of ['revoke_oldest', 'refuse'] as const) {
      it(`${atCap}: 40 concurrent creates of one user capped at 5 leave exactly 5 active`, async () => {
        const userId = `usr_race_${atCap}`
        const outcomes = await Promise.allSettled(
          Array.from({ length: 40 }, () =>
            store.create(tenant, makeSessionRecord({ tenantId: tenant, userId }), { maxPerUser: 5, atCap }),
          ),
        )
        const created = outcomes.filter((o) => o.status === 'fulfilled')
        const refused = outcomes.filter(
          (o) => o.status === 'rejected' && (o.reason as CoreSDKError).code === 'session_limit',
        )
        expect(created.length + refused.length).toBe(40)
        expect(created).toHaveLength(atCap === 'refuse' ? 5 : 40)
        const list = await store.listForUser(tenant, userId)
        expect(active(list)).toHaveLength(5)
        expect(list).toHaveLength(atCap === 'refuse' ? 5 : 40)
      })
    }
  })

  describe('strings of any content', () => {
    it('keeps NUL, lone surrogates and 10 KB strings in tenant, user, id and key apart and intact', async () => {
      const odd = ['a\u0000b', 'a\uD800', 'a\uDBFF', 'a\uDC00b', '\uFFFD', randomUnits(10_000), 'a']
      const records: SessionRecord[] = []
      for (const [i, value] of odd.entries()) {
        const t = `${tenant}${value}`
        const record = makeSessionRecord({
          tenantId: t,
          id: `sess_${value}`,
          userId: `usr_${value}`,
          key: `sid:${value}`,
          claims: { sub: `usr_${value}`, odd: value },
          meta: { agent: value },
          secretHash: value,
          tokens: value,
          createdAt: Date.now() + i,
        })
        const result = await store.create(t, record)
        expect(result.created, JSON.stringify(value.slice(0, 8))).toBe(true)
        records.push(record)
      }
      for (const record of records) {
        const t = record.tenantId
        expect(await store.get(t, record.id)).toEqual(record)
        expect(await store.getByKey(t, record.key!)).toEqual(record)
        expect(await store.listForUser(t, record.userId)).toEqual([record])
      }
      // Tenant and id (or key) never run together: ('a\0', 'b') is not ('a', '\0b').
      expect(await store.get(`${tenant}a`, 'sess_\u0000b')).toBeNull()
      expect(await store.get(`${tenant}a\u0000`, 'sess_b')).toBeNull()
    })

    it('announces the revocation of a session with 10 KB ids and keys, exactly (through the overflow table)', async () => {
      const big = randomUnits(10_000)
      const record = makeSessionRecord({ tenantId: `${tenant}${big}`, id: `sess_${big}`, key: `sid:${big}` })
      await store.create(record.tenantId, record)
      const heard = waitForEvent(store, (e) => e.kind === 'session' && e.sessionId === record.id)
      const at = Date.now()
      await store.revoke(record.tenantId, record.id, at)
      expect(await heard).toEqual({
        kind: 'session',
        tenantId: record.tenantId,
        sessionId: record.id,
        key: record.key,
        userId: record.userId,
        at,
      })
      const userHeard = waitForEvent(store, (e) => e.kind === 'user' && e.userId === `usr_${big}`)
      await store.revokeAllForUser(record.tenantId, `usr_${big}`, at, 60_000)
      expect(await userHeard).toEqual({ kind: 'user', tenantId: record.tenantId, userId: `usr_${big}`, at })
    })
  })

  describe('errors', () => {
    it('rejects a malformed record with internal_error (not store_unavailable), without naming its values', async () => {
      const record = makeSessionRecord({ tenantId: tenant, issuedAt: Number.NaN, userId: 'usr_secret_name' })
      const error = await store.create(tenant, record).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CoreSDKError)
      expect((error as CoreSDKError).code).toBe('internal_error')
      expect(inspect(error, { depth: 5 })).not.toContain('usr_secret_name')
    })

    it('rejects with internal_error naming the migration when the tables are missing', async () => {
      const missing = await openStore(url, { schema: uniqueSchema('missing'), listener: false })
      try {
        const error = await missing.store.get(tenant, 'sess_x').catch((e: unknown) => e)
        expect(error).toMatchObject({ code: 'internal_error' })
        expect((error as Error).message).toMatch(/migrate/)
      } finally {
        await missing.close()
      }
    })

    it('keeps no value from a PostgreSQL error in the error or its cause', async () => {
      const session = makeSessionRecord({ tenantId: tenant, id: 'sess_duplicate_id_value' })
      await store.create(tenant, session)
      // The same id with another key: the primary key refuses it.
      const error = await store
        .create(tenant, { ...session, key: 'sid:another_key_value' })
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'internal_error' })
      const shown = inspect(error, { depth: 5 })
      expect(shown).toContain('23505')
      expect(shown).not.toContain('sess_duplicate_id_value')
      expect(shown).not.toContain('another_key_value')
    })

    it('rejects every call on a closed store with store_unavailable', async () => {
      await store.close()
      await expect(store.get(tenant, 'sess_x')).rejects.toMatchObject({ code: 'store_unavailable' })
    })
  })

  describe('expiry sweep', () => {
    it('deletes records and markers past their retention in batches, and nothing still retained', async () => {
      const sweeper = await openStore(url, { schema, sweepBatchSize: 7, sweepInterval: 0, listener: false })
      try {
        const now = Date.now()
        const old = Array.from({ length: 20 }, () =>
          makeSessionRecord({ tenantId: tenant, expiresAt: now + 5000, retainUntil: now + 10_000 }),
        )
        const kept = makeSessionRecord({ tenantId: tenant })
        for (const record of [...old, kept]) await sweeper.store.create(tenant, record)
        await sweeper.store.revokeAllForUser(tenant, 'usr_marker', now, 10_000)
        expect(await sweeper.store.claimOnce(tenant, 'jti-swept', now + 10_000)).toBe(true)
        expect(await sweeper.store.claimOnce(tenant, 'jti-kept', now + 3_600_000)).toBe(true)
        // Swept as of a minute later: every record above is past its retention then, the one kept is not.
        const later = now + 60_000
        const swept = await sweeper.store.sweep(later)
        expect(swept.sessions).toBeGreaterThanOrEqual(20)
        expect(swept.markers).toBeGreaterThanOrEqual(1)
        expect(swept.oneTimeKeys).toBeGreaterThanOrEqual(1)
        // The claim still running holds: a second claim of it is refused.
        expect(await sweeper.store.claimOnce(tenant, 'jti-kept', now + 3_600_000)).toBe(false)
        const left = await opened.pool.query(
          `SELECT count(*)::int AS n FROM "${schema}".coresdk_sessions WHERE retain_until <= $1`,
          [later],
        )
        expect(left.rows[0].n).toBe(0)
        expect((await sweeper.store.get(tenant, kept.id))?.id).toBe(kept.id)
      } finally {
        await sweeper.close()
      }
    })
  })

  describe('migrations', () => {
    it('apply once when five processes migrate at the same time, and do nothing when run again', async () => {
      const fresh = uniqueSchema('migrate')
      const pools = Array.from({ length: 5 }, () => openPool(url, { commandTimeout: 10_000 }))
      try {
        const results = await Promise.all(pools.map((pool) => migrate(pool, { schema: fresh })))
        // Every version once, in order, between the five of them.
        const versions = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1)
        expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(versions)
        expect(await migrate(pools[0]!, { schema: fresh })).toEqual({
          from: SCHEMA_VERSION,
          to: SCHEMA_VERSION,
          applied: [],
        })
        expect(await schemaVersion(pools[0]!, { schema: fresh })).toBe(SCHEMA_VERSION)
        expect(await schemaVersion(pools[0]!, { schema: uniqueSchema('never') })).toBe(0)
      } finally {
        await pools[0]!.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`)
        await Promise.all(pools.map((pool) => pool.end()))
      }
    })
  })
})
