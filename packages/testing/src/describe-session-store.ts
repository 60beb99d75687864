import { CoreSDKClient } from '@coresdk/core'
import {
  newSessionId,
  type RevocationEvent,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from '@coresdk/core/store'
import { SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeSessionRecord, randomName } from './records.ts'

/** What a {@link SessionStoreFactory} gives each test: a store ready to use (revocation events subscribed), and how to release it. */
export interface SessionStoreHarness {
  store: SessionStore
  /** Releases the store and whatever the factory started; when absent, the suite calls `store.close()`. */
  cleanup?(): Promise<void>
}

/** Makes the store under test; called once per test. */
export type SessionStoreFactory = () => Promise<SessionStoreHarness> | SessionStoreHarness

/** Options of {@link describeSessionStore}. */
export interface DescribeSessionStoreOptions {
  /** Run the end-to-end scenario through `CoreSDKClient` with this store. @default true */
  client?: boolean
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function eventually<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = read()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`nothing arrived within ${timeoutMs} ms`)
    await sleep(10)
  }
}

/**
 * The conformance suite every {@link SessionStore} passes: the whole contract, tenant isolation, expiry, concurrency
 * and a scenario through `CoreSDKClient`. Each test uses tenants of its own, so a shared server needs no flushing.
 * @example
 * describeSessionStore('MemorySessionStore', () => ({ store: new MemorySessionStore() }))
 */
export function describeSessionStore(
  name: string,
  factory: SessionStoreFactory,
  options: DescribeSessionStoreOptions = {},
): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let harness: SessionStoreHarness
    let store: SessionStore
    let tenant: string
    let otherTenant: string

    beforeEach(async () => {
      harness = await factory()
      store = harness.store
      tenant = randomName('tenant')
      otherTenant = randomName('tenant')
    })

    afterEach(async () => {
      if (harness.cleanup) await harness.cleanup()
      else await store.close?.()
    })

    const record = (overrides: Partial<SessionRecord> = {}) =>
      makeSessionRecord({ tenantId: tenant, ...overrides })

    describe('get, getByKey and create', () => {
      it('returns null for an unknown id or key', async () => {
        expect(await store.get(tenant, newSessionId())).toBeNull()
        expect(await store.getByKey(tenant, 'sid:nobody')).toBeNull()
        expect(await store.listForUser(tenant, 'usr_nobody')).toEqual([])
        expect(await store.getUserRevokedAt(tenant, 'usr_nobody')).toBeNull()
      })

      it('stores a new record and finds it by id and by key', async () => {
        const session = record()
        const result = await store.create(tenant, session)
        expect(result.created).toBe(true)
        expect(result.record).toEqual(session)
        expect(await store.get(tenant, session.id)).toEqual(session)
        expect(await store.getByKey(tenant, session.key!)).toEqual(session)
      })

      it('keeps every field of the record as it was given', async () => {
        const session = record({
          origin: 'login',
          key: null,
          claims: {
            sub: 'usr_fields',
            aud: ['a', 'b'],
            email: 'user@example.com',
            nested: { deep: [1, 2, { x: null }], empty: {}, list: [] },
            unicode: 'é漢字 "quoted" \\ back',
          },
          secretHash: 'c2VjcmV0LWhhc2g',
          tokens: 'ZW5jcnlwdGVkLXRva2Vucw',
          meta: { userAgent: 'Mozilla/5.0 (X11)', ip: '::1' },
          userId: 'usr_fields',
        })
        await store.create(tenant, session)
        const stored = await store.get(tenant, session.id)
        expect(stored).toEqual(session)
        expect(stored).not.toBe(session)
      })

      it('is idempotent by key: a second create with the same key returns the first record (created: false)', async () => {
        const first = record()
        const second = record({ userId: first.userId, key: first.key, claims: { sub: first.userId, n: 2 } })
        expect((await store.create(tenant, first)).created).toBe(true)
        const again = await store.create(tenant, second)
        expect(again.created).toBe(false)
        expect(again.record.id).toBe(first.id)
        expect(again.record.claims).toEqual(first.claims)
        expect(await store.get(tenant, second.id)).toBeNull()
        expect(await store.listForUser(tenant, first.userId)).toHaveLength(1)
      })

      it('creates a new session for every keyless record', async () => {
        const userId = randomName('usr')
        const a = await store.create(tenant, record({ userId, key: null }))
        const b = await store.create(tenant, record({ userId, key: null }))
        expect(a.created && b.created).toBe(true)
        expect((await store.listForUser(tenant, userId)).map((r) => r.id).sort()).toEqual(
          [a.record.id, b.record.id].sort(),
        )
      })

      it('binds the key to a new session once the bound one has expired unrevoked', async () => {
        const now = Date.now()
        const old = record({ expiresAt: now - 1, lastSeenAt: now - 60_000 })
        await store.create(tenant, old)
        const fresh = record({ userId: old.userId, key: old.key })
        const again = await store.create(tenant, fresh)
        expect(again.created).toBe(true)
        expect(again.record.id).toBe(fresh.id)
        expect((await store.getByKey(tenant, old.key!))?.id).toBe(fresh.id)
      })

      it('keeps a revoked session bound to its key, so the same credential cannot start a fresh session', async () => {
        const session = record()
        await store.create(tenant, session)
        await store.revoke(tenant, session.id, Date.now())
        const again = await store.create(tenant, record({ userId: session.userId, key: session.key }))
        expect(again.created).toBe(false)
        expect(again.record.id).toBe(session.id)
        expect(again.record.revokedAt).not.toBeNull()
      })
    })

    describe('keys made of awkward strings', () => {
      // What a careless key encoding breaks: a throw (encodeURIComponent on a lone surrogate), a lossy conversion
      // (a lone surrogate sent as UTF-8 becomes U+FFFD), an ambiguous join (NUL, ':'), a forged Cluster hash tag.
      const AWKWARD: Array<[string, string]> = [
        ['a lone high surrogate', '\uD800'],
        ['another lone high surrogate', '\uDBFF'],
        ['a lone low surrogate between letters', 'a\uDC00b'],
        ['the replacement character a lossy encoding makes of a lone surrogate', '\uFFFD'],
        ['a valid surrogate pair', '\uD800\uDC00'],
        ['NUL', 'a\u0000b'],
        ['the NUL-free neighbour', 'ab'],
        ['Cluster hash-tag braces', '{u:x}'],
        ['unbalanced braces', '}{'],
        ['colons', 'a:b::c'],
        ['a percent escape', '%3A'],
        ['what an escape of a lone surrogate could look like', '%uD800'],
        ['a 10 KB string', 'x'.repeat(10_240)],
        ['a 10 KB string one character different', `${'x'.repeat(10_239)}y`],
        ['10 KB of lone surrogates', '\uDFFF'.repeat(10_240)],
      ]

      it('keeps users whose ids are awkward strings apart in every operation', async () => {
        const sessions = new Map<string, SessionRecord[]>()
        for (const [, userId] of AWKWARD) {
          const keyed = record({ userId, key: `sid:${userId}`, claims: { sub: userId } })
          const keyless = record({ userId, key: null, claims: { sub: userId } })
          expect((await store.create(tenant, keyed)).created).toBe(true)
          expect((await store.create(tenant, keyless)).created).toBe(true)
          sessions.set(userId, [keyed, keyless])
        }
        for (const [what, userId] of AWKWARD) {
          const [keyed, keyless] = sessions.get(userId)!
          expect(await store.get(tenant, keyed!.id), what).toEqual(keyed)
          expect(await store.getByKey(tenant, keyed!.key!), what).toEqual(keyed)
          const listed = (await store.listForUser(tenant, userId)).map((s) => s.id).sort()
          expect(listed, what).toEqual([keyed!.id, keyless!.id].sort())
        }

        const [, first] = AWKWARD[0]!
        const [revokedKeyed] = sessions.get(first)!
        await store.revoke(tenant, revokedKeyed!.id, Date.now())
        const [, second] = AWKWARD[1]!
        const at = Date.now()
        expect([...(await store.revokeAllForUser(tenant, second, at, 60_000))].sort()).toEqual(
          sessions
            .get(second)!
            .map((s) => s.id)
            .sort(),
        )
        expect(await store.getUserRevokedAt(tenant, second)).toBe(at)

        for (const [what, userId] of AWKWARD) {
          const [keyed, keyless] = sessions.get(userId)!
          const byKey = await store.getByKey(tenant, keyed!.key!)
          expect(byKey?.id, what).toBe(keyed!.id)
          expect(byKey?.revokedAt !== null, what).toBe(userId === first || userId === second)
          expect((await store.get(tenant, keyless!.id))?.revokedAt !== null, what).toBe(userId === second)
          if (userId !== second) expect(await store.getUserRevokedAt(tenant, userId), what).toBeNull()
        }
      })

      it('keeps credential keys and session ids that are awkward strings apart', async () => {
        const userId = randomName('usr')
        const created: SessionRecord[] = []
        for (const [, value] of AWKWARD) {
          for (const key of [`sid:${value}`, `jti:${value}`, value]) {
            const session = record({ userId, key, id: `${newSessionId()}${value}` })
            expect((await store.create(tenant, session)).created).toBe(true)
            created.push(session)
          }
        }
        for (const session of created) {
          expect(await store.get(tenant, session.id)).toEqual(session)
          expect(await store.getByKey(tenant, session.key!)).toEqual(session)
        }
        expect((await store.listForUser(tenant, userId)).map((s) => s.id).sort()).toEqual(
          created.map((s) => s.id).sort(),
        )
        const victim = created[3]!
        expect((await store.revoke(tenant, victim.id, Date.now()))?.id).toBe(victim.id)
        for (const session of created) {
          const revoked = (await store.getByKey(tenant, session.key!))?.revokedAt !== null
          expect(revoked, JSON.stringify(session.key!.slice(0, 20))).toBe(session === victim)
        }
        expect([...(await store.revokeAllForUser(tenant, userId, Date.now(), 60_000))].sort()).toEqual(
          created
            .filter((s) => s !== victim)
            .map((s) => s.id)
            .sort(),
        )
      })

      it('never joins a tenant and a key or user ambiguously', async () => {
        // Joined with a separator, ('t\0x', 'sid:1') and ('t', 'x\0sid:1') would name one entry.
        const tenantA = `${tenant}\u0000x`
        const a = makeSessionRecord({ tenantId: tenantA, key: 'sid:1', userId: 'u' })
        const b = makeSessionRecord({ tenantId: tenant, key: 'x\u0000sid:1', userId: 'x\u0000u' })
        for (const [t, s] of [
          [tenantA, a],
          [tenant, b],
        ] as const) {
          expect((await store.create(t, s)).created).toBe(true)
        }
        expect((await store.getByKey(tenantA, 'sid:1'))?.id).toBe(a.id)
        expect((await store.getByKey(tenant, 'x\u0000sid:1'))?.id).toBe(b.id)
        await store.revokeAllForUser(tenantA, 'u', Date.now(), 60_000)
        expect(await store.getUserRevokedAt(tenant, 'x\u0000u')).toBeNull()
        expect((await store.get(tenant, b.id))?.revokedAt).toBeNull()
      })
    })

    describe('update', () => {
      it('changes the patched fields and keeps the others', async () => {
        const session = record()
        await store.create(tenant, session)
        const later = session.lastSeenAt + 60_000
        const patch = {
          lastSeenAt: later,
          expiresAt: later + 30 * 60_000,
          secretHash: 'bmV3LWhhc2g',
          tokens: 'bmV3LXRva2Vucw',
          claims: { sub: session.userId, email: 'new@example.com' },
          retainUntil: session.retainUntil + 60_000,
        }
        const updated = await store.update(tenant, session.id, patch)
        expect(updated).toEqual({ ...session, ...patch })
        expect(await store.get(tenant, session.id)).toEqual({ ...session, ...patch })
        expect(await store.getByKey(tenant, session.key!)).toEqual({ ...session, ...patch })
      })

      it('returns null for an unknown session and creates nothing', async () => {
        const id = newSessionId()
        expect(await store.update(tenant, id, { lastSeenAt: Date.now() })).toBeNull()
        expect(await store.get(tenant, id)).toBeNull()
      })

      it('never clears revokedAt', async () => {
        const session = record()
        await store.create(tenant, session)
        const at = Date.now()
        await store.revoke(tenant, session.id, at)
        // A patch carrying revokedAt (outside the type) must not un-revoke.
        const patch = { lastSeenAt: at + 1, revokedAt: null } as Parameters<SessionStore['update']>[2]
        const updated = await store.update(tenant, session.id, patch)
        expect(updated?.revokedAt).toBe(at)
        expect(updated?.lastSeenAt).toBe(at + 1)
        expect((await store.get(tenant, session.id))?.revokedAt).toBe(at)
      })
    })

    describe('revoke', () => {
      it('marks the session revoked, by id and by key', async () => {
        const session = record()
        await store.create(tenant, session)
        const at = Date.now()
        const revoked = await store.revoke(tenant, session.id, at)
        expect(revoked).toEqual({ ...session, revokedAt: at })
        expect((await store.get(tenant, session.id))?.revokedAt).toBe(at)
        expect((await store.getByKey(tenant, session.key!))?.revokedAt).toBe(at)
      })

      it('is idempotent: the first revokedAt stays', async () => {
        const session = record()
        await store.create(tenant, session)
        const at = Date.now()
        await store.revoke(tenant, session.id, at)
        const again = await store.revoke(tenant, session.id, at + 5000)
        expect(again?.revokedAt).toBe(at)
        expect((await store.get(tenant, session.id))?.revokedAt).toBe(at)
      })

      it('returns null for an unknown session', async () => {
        expect(await store.revoke(tenant, newSessionId(), Date.now())).toBeNull()
      })

      it('leaves the user’s other sessions alone', async () => {
        const a = record()
        const b = record({ userId: a.userId })
        await store.create(tenant, a)
        await store.create(tenant, b)
        await store.revoke(tenant, a.id, Date.now())
        expect((await store.get(tenant, b.id))?.revokedAt).toBeNull()
      })
    })

    describe('revokeAllForUser', () => {
      it('revokes every session of the user, sets the marker and leaves other users untouched', async () => {
        const userId = randomName('usr')
        const mine = [record({ userId }), record({ userId, key: null }), record({ userId, origin: 'login' })]
        const theirs = record()
        for (const session of [...mine, theirs]) await store.create(tenant, session)
        const at = Date.now()
        const ids = await store.revokeAllForUser(tenant, userId, at, 60_000)
        expect([...ids].sort()).toEqual(mine.map((s) => s.id).sort())
        for (const session of mine) expect((await store.get(tenant, session.id))?.revokedAt).toBe(at)
        expect((await store.listForUser(tenant, userId)).every((s) => s.revokedAt !== null)).toBe(true)
        expect(await store.getUserRevokedAt(tenant, userId)).toBe(at)
        expect((await store.get(tenant, theirs.id))?.revokedAt).toBeNull()
        expect(await store.getUserRevokedAt(tenant, theirs.userId)).toBeNull()
      })

      it('keeps the first revokedAt of a session revoked before', async () => {
        const session = record()
        await store.create(tenant, session)
        const first = Date.now() - 1000
        await store.revoke(tenant, session.id, first)
        await store.revokeAllForUser(tenant, session.userId, Date.now(), 60_000)
        expect((await store.get(tenant, session.id))?.revokedAt).toBe(first)
      })

      it('stores a session issued at or before the marker already revoked, and a later one active', async () => {
        const userId = randomName('usr')
        const at = Date.now()
        await store.revokeAllForUser(tenant, userId, at, 60_000)
        const before = await store.create(tenant, record({ userId, issuedAt: at - 10_000 }))
        const same = await store.create(tenant, record({ userId, issuedAt: at }))
        const after = await store.create(tenant, record({ userId, issuedAt: at + 1 }))
        expect(before.created).toBe(true)
        expect(before.record.revokedAt).not.toBeNull()
        expect(same.record.revokedAt).not.toBeNull()
        expect(after.record.revokedAt).toBeNull()
        expect((await store.get(tenant, before.record.id))?.revokedAt).not.toBeNull()
        expect((await store.get(tenant, same.record.id))?.revokedAt).not.toBeNull()
        expect((await store.get(tenant, after.record.id))?.revokedAt).toBeNull()
      })

      it('returns no ids for a user without sessions, and still sets the marker', async () => {
        const at = Date.now()
        expect(await store.revokeAllForUser(tenant, 'usr_empty', at, 60_000)).toEqual([])
        expect(await store.getUserRevokedAt(tenant, 'usr_empty')).toBe(at)
      })
    })

    describe('revokeOthersForUser (optional: without it CoreSDK lists and revokes one by one)', () => {
      it('revokes every active session of the user but the kept one, sets no marker and leaves other users alone', async (context) => {
        if (!store.revokeOthersForUser) return context.skip('this store has no revokeOthersForUser')
        const userId = randomName('usr')
        const kept = record({ userId })
        const others = [
          record({ userId }),
          record({ userId, key: null }),
          record({ userId, origin: 'login' }),
        ]
        const earlier = record({ userId })
        const theirs = record()
        for (const session of [kept, ...others, earlier, theirs]) await store.create(tenant, session)
        const first = Date.now() - 1000
        await store.revoke(tenant, earlier.id, first)
        const at = Date.now()
        const ids = await store.revokeOthersForUser(tenant, userId, kept.id, at)
        // The session revoked before is no change of this call's: its first revokedAt stays, and it is not named.
        expect([...ids].sort()).toEqual(others.map((s) => s.id).sort())
        for (const session of others) expect((await store.get(tenant, session.id))?.revokedAt).toBe(at)
        expect((await store.get(tenant, earlier.id))?.revokedAt).toBe(first)
        expect((await store.get(tenant, kept.id))?.revokedAt).toBeNull()
        expect((await store.getByKey(tenant, kept.key!))?.revokedAt).toBeNull()
        expect((await store.get(tenant, theirs.id))?.revokedAt).toBeNull()
        expect(await store.getUserRevokedAt(tenant, userId)).toBeNull()
        const active = (await store.listForUser(tenant, userId)).filter((s) => s.revokedAt === null)
        expect(active.map((s) => s.id)).toEqual([kept.id])
        // Again: nothing left to revoke.
        expect(await store.revokeOthersForUser(tenant, userId, kept.id, Date.now())).toEqual([])
        // A later session of the user is active: no cutoff covers it.
        const later = await store.create(tenant, record({ userId, issuedAt: at - 10_000 }))
        expect(later.record.revokedAt).toBeNull()
      })

      it('keeps apart tenants, and reports each revocation to onRevocation listeners', async (context) => {
        if (!store.revokeOthersForUser) return context.skip('this store has no revokeOthersForUser')
        const userId = randomName('usr')
        const kept = record({ userId })
        const other = record({ userId })
        const sameInOtherTenant = makeSessionRecord({ tenantId: otherTenant, userId })
        for (const session of [kept, other]) await store.create(tenant, session)
        await store.create(otherTenant, sameInOtherTenant)
        const events: RevocationEvent[] = []
        const unsubscribe = store.onRevocation?.((event) => events.push(event))
        try {
          expect(await store.revokeOthersForUser(tenant, userId, kept.id, Date.now())).toEqual([other.id])
          expect((await store.get(otherTenant, sameInOtherTenant.id))?.revokedAt).toBeNull()
          if (!unsubscribe) return context.skip('this store does not report revocations')
          const event = await eventually(() =>
            events.find((e) => e.kind === 'session' && e.sessionId === other.id),
          )
          expect(event).toMatchObject({ kind: 'session', tenantId: tenant, userId, key: other.key })
          await sleep(50)
          // This user's only: a late message of an earlier test (another user's revoke-all) may still arrive here.
          expect(events.filter((e) => e.kind === 'user' && e.userId === userId)).toEqual([])
          expect(events.some((e) => e.kind === 'session' && e.sessionId === kept.id)).toBe(false)
        } finally {
          unsubscribe?.()
        }
      })

      it('racing 50 creates: every session created before it is revoked, the kept one stays, and what it names agrees with the store', async (context) => {
        if (!store.revokeOthersForUser) return context.skip('this store has no revokeOthersForUser')
        const userId = randomName('usr')
        const kept = record({ userId })
        await store.create(tenant, kept)
        const before = Array.from({ length: 20 }, () => record({ userId }))
        await Promise.all(before.map((session) => store.create(tenant, session)))
        const racing = Array.from({ length: 50 }, () => record({ userId }))
        const [ids] = await Promise.all([
          store.revokeOthersForUser!(tenant, userId, kept.id, Date.now()),
          ...racing.map((session) => store.create(tenant, session)),
        ])
        expect(new Set(ids).size).toBe(ids.length)
        for (const session of before) expect(ids).toContain(session.id)
        expect(ids).not.toContain(kept.id)
        const listed = new Map((await store.listForUser(tenant, userId)).map((s) => [s.id, s]))
        expect(listed.get(kept.id)?.revokedAt).toBeNull()
        for (const id of ids) expect(listed.get(id)?.revokedAt, id).not.toBeNull()
        // A racing create the call did not revoke ran after it: it is active, and a second call revokes it.
        const survivors = racing.filter((s) => !ids.includes(s.id))
        for (const session of survivors) expect(listed.get(session.id)?.revokedAt).toBeNull()
        const second = await store.revokeOthersForUser!(tenant, userId, kept.id, Date.now())
        expect([...second].sort()).toEqual(survivors.map((s) => s.id).sort())
      })
    })

    describe('listForUser', () => {
      it('lists the user’s sessions, revoked ones included, and nobody else’s', async () => {
        const userId = randomName('usr')
        const a = record({ userId })
        const b = record({ userId })
        await store.create(tenant, a)
        await store.create(tenant, b)
        await store.create(tenant, record())
        await store.revoke(tenant, b.id, Date.now())
        const list = await store.listForUser(tenant, userId)
        expect(list.map((s) => s.id).sort()).toEqual([a.id, b.id].sort())
        expect(list.find((s) => s.id === b.id)?.revokedAt).not.toBeNull()
        expect(list.every((s) => s.userId === userId && s.tenantId === tenant)).toBe(true)
      })
    })

    describe('tenant isolation', () => {
      it('never mixes sessions with the same id, key and user in two tenants', async () => {
        const userId = randomName('usr')
        const a = makeSessionRecord({ tenantId: tenant, userId, claims: { sub: userId, tenant: 'A' } })
        const b = { ...a, tenantId: otherTenant, claims: { sub: userId, tenant: 'B' } }
        expect((await store.create(tenant, a)).created).toBe(true)
        expect((await store.create(otherTenant, b)).created).toBe(true)
        expect(await store.get(tenant, a.id)).toEqual(a)
        expect(await store.get(otherTenant, a.id)).toEqual(b)
        expect(await store.getByKey(otherTenant, a.key!)).toEqual(b)

        await store.revoke(tenant, a.id, Date.now())
        expect((await store.get(otherTenant, a.id))?.revokedAt).toBeNull()

        await store.revokeAllForUser(tenant, userId, Date.now(), 60_000)
        expect(await store.getUserRevokedAt(otherTenant, userId)).toBeNull()
        expect(await store.listForUser(otherTenant, userId)).toEqual([b])
        expect(await store.update(otherTenant, newSessionId(), { lastSeenAt: 1 })).toBeNull()
      })

      it('finds nothing of tenant A from tenant B', async () => {
        const a = record()
        await store.create(tenant, a)
        expect(await store.get(otherTenant, a.id)).toBeNull()
        expect(await store.getByKey(otherTenant, a.key!)).toBeNull()
        expect(await store.listForUser(otherTenant, a.userId)).toEqual([])
        expect(await store.revoke(otherTenant, a.id, Date.now())).toBeNull()
        expect((await store.get(tenant, a.id))?.revokedAt).toBeNull()
      })
    })

    describe('expiry', () => {
      it('drops a record once its retainUntil has passed, and frees its key', async () => {
        const now = Date.now()
        const session = record({ expiresAt: now + 150, absoluteExpiresAt: now + 200, retainUntil: now + 300 })
        await store.create(tenant, session)
        expect(await store.get(tenant, session.id)).not.toBeNull()
        await sleep(600)
        const later = Date.now()
        const live = (r: SessionRecord | null | undefined) => r != null && r.retainUntil > later
        expect(live(await store.get(tenant, session.id))).toBe(false)
        expect(live(await store.getByKey(tenant, session.key!))).toBe(false)
        expect((await store.listForUser(tenant, session.userId)).some(live)).toBe(false)
        const again = await store.create(tenant, record({ userId: session.userId, key: session.key }))
        expect(again.created).toBe(true)
        expect(again.record.id).not.toBe(session.id)
      })

      it('keeps a record whose retainUntil is extended by update', async () => {
        const now = Date.now()
        const session = record({
          expiresAt: now + 150,
          absoluteExpiresAt: now + 60_000,
          retainUntil: now + 300,
        })
        await store.create(tenant, session)
        await store.update(tenant, session.id, { expiresAt: now + 30_000, retainUntil: now + 60_000 })
        await sleep(600)
        expect((await store.get(tenant, session.id))?.id).toBe(session.id)
        expect((await store.getByKey(tenant, session.key!))?.id).toBe(session.id)
      })
    })

    describe('concurrency', () => {
      it('100 concurrent creates with one key make exactly one session', async () => {
        const userId = randomName('usr')
        const key = `sid:${randomName('race')}`
        const results = await Promise.all(
          Array.from({ length: 100 }, () => store.create(tenant, record({ userId, key }))),
        )
        expect(results.filter((r) => r.created)).toHaveLength(1)
        expect(new Set(results.map((r) => r.record.id)).size).toBe(1)
        expect(await store.listForUser(tenant, userId)).toHaveLength(1)
      })

      it('revoke-all racing 100 creates of older sessions leaves none of them active', async () => {
        const userId = randomName('usr')
        const at = Date.now()
        const creates: Array<Promise<{ record: SessionRecord; created: boolean }>> = []
        let revokeAll: Promise<string[]> | undefined
        for (let i = 0; i < 100; i++) {
          if (i === 50) revokeAll = store.revokeAllForUser(tenant, userId, at, 60_000)
          creates.push(store.create(tenant, record({ userId, issuedAt: at - 1000 + i })))
        }
        const results = await Promise.all(creates)
        await revokeAll
        expect(results.every((r) => r.created)).toBe(true)
        for (const result of results) {
          const stored = await store.get(tenant, result.record.id)
          expect(stored?.revokedAt ?? null, `session ${result.record.id}`).not.toBeNull()
        }
        expect((await store.listForUser(tenant, userId)).filter((s) => s.revokedAt === null)).toEqual([])
      })

      it('revoke-all racing creates under a bound: none issued before it survives, those issued after it are kept', async () => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 10, atCap: 'revoke_oldest' } as const
        const at = Date.now()
        const creates: Array<Promise<{ record: SessionRecord; created: boolean }>> = []
        let revokeAll: Promise<string[]> | undefined
        for (let i = 0; i < 60; i++) {
          if (i === 30) revokeAll = store.revokeAllForUser(tenant, userId, at, 60_000)
          const issuedAt = i % 2 === 0 ? at - 1000 + i : at + 1 + i
          creates.push(store.create(tenant, record({ userId, issuedAt }), limits))
        }
        const results = await Promise.all(creates)
        await revokeAll
        for (const { record: created } of results) {
          const stored = await store.get(tenant, created.id)
          if (created.issuedAt <= at) expect(stored?.revokedAt ?? null, created.id).not.toBeNull()
        }
        const active = (await store.listForUser(tenant, userId)).filter((s) => s.revokedAt === null)
        expect(active.length).toBeGreaterThan(0)
        expect(active.length).toBeLessThanOrEqual(limits.maxPerUser)
        expect(active.every((s) => s.issuedAt > at)).toBe(true)
      })
    })

    describe('the per-user bound (limits)', () => {
      const active = (r: SessionRecord | null | undefined, now = Date.now()) =>
        r != null && r.revokedAt === null && r.expiresAt > now && r.absoluteExpiresAt > now

      it('100 concurrent creates for one user with maxPerUser 3 leave exactly 3 active sessions, and listForUser agrees', async () => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 3, atCap: 'revoke_oldest' } as const
        const results = await Promise.all(
          Array.from({ length: 100 }, () => store.create(tenant, record({ userId }), limits)),
        )
        expect(results.every((r) => r.created)).toBe(true)
        const stored = await Promise.all(results.map((r) => store.get(tenant, r.record.id)))
        const survivors = stored.filter((r) => active(r)).map((r) => r!.id)
        expect(survivors).toHaveLength(3)
        const listed = (await store.listForUser(tenant, userId)).filter((r) => active(r)).map((r) => r.id)
        expect(listed.sort()).toEqual(survivors.sort())
        // Revoked by the cap, and refused as any revoked session is: by key, and for a fresh create with its key.
        for (const { record: created } of results.filter((r) => !survivors.includes(r.record.id))) {
          expect((await store.getByKey(tenant, created.key!))?.revokedAt ?? null, created.id).not.toBeNull()
        }
        const victim = results.find((r) => !survivors.includes(r.record.id))!.record
        const again = await store.create(tenant, record({ userId, key: victim.key }), limits)
        expect(again).toMatchObject({ created: false, record: { id: victim.id } })
        expect(again.record.revokedAt).not.toBeNull()
      })

      it("revoke_oldest revokes the user's oldest active session and reports it like a revoke", async (context) => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 2, atCap: 'revoke_oldest' } as const
        const events: RevocationEvent[] = []
        const unsubscribe = store.onRevocation?.((event) => events.push(event))
        try {
          const now = Date.now()
          const [oldest, middle, newest] = [0, 1, 2].map((i) => record({ userId, createdAt: now + i }))
          for (const session of [oldest!, middle!]) await store.create(tenant, session, limits)
          // The create names what the cap revoked for it, so that CoreSDK reports each once.
          expect((await store.create(tenant, newest!, limits)).revoked).toEqual([oldest!.id])
          expect((await store.get(tenant, oldest!.id))?.revokedAt).not.toBeNull()
          expect((await store.get(tenant, middle!.id))?.revokedAt).toBeNull()
          expect((await store.get(tenant, newest!.id))?.revokedAt).toBeNull()
          expect(await store.getUserRevokedAt(tenant, userId)).toBeNull()
          if (!unsubscribe) return context.skip('this store does not report revocations')
          const event = await eventually(() =>
            events.find((e) => e.kind === 'session' && e.sessionId === oldest!.id),
          )
          expect(event).toMatchObject({ kind: 'session', tenantId: tenant, userId, key: oldest!.key })
        } finally {
          unsubscribe?.()
        }
      })

      it('refuse rejects a session past the bound with session_limit, stores nothing, and accepts one again once a slot frees', async () => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 2, atCap: 'refuse' } as const
        const [a, b] = [record({ userId }), record({ userId })]
        for (const session of [a, b]) await store.create(tenant, session, limits)
        const refused = record({ userId })
        await expect(store.create(tenant, refused, limits)).rejects.toMatchObject({ code: 'session_limit' })
        expect(await store.get(tenant, refused.id)).toBeNull()
        expect(await store.getByKey(tenant, refused.key!)).toBeNull()
        expect((await store.get(tenant, a.id))?.revokedAt).toBeNull()
        await store.revoke(tenant, a.id, Date.now())
        expect((await store.create(tenant, refused, limits)).created).toBe(true)
      })

      it('100 concurrent creates under refuse with maxPerUser 3 store exactly 3 and refuse the others', async () => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 3, atCap: 'refuse' } as const
        const outcomes = await Promise.all(
          Array.from({ length: 100 }, () =>
            store.create(tenant, record({ userId }), limits).then(
              (r) => r.record.id,
              (error: { code?: string }) => error.code,
            ),
          ),
        )
        expect(outcomes.filter((o) => o === 'session_limit')).toHaveLength(97)
        const listed = (await store.listForUser(tenant, userId)).map((r) => r.id).sort()
        expect(listed).toEqual(outcomes.filter((o) => o !== 'session_limit').sort())
      })

      it('counts neither expired nor revoked sessions toward the bound', async () => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 2, atCap: 'refuse' } as const
        const now = Date.now()
        await store.create(tenant, record({ userId, expiresAt: now + 100, lastSeenAt: now }), limits)
        const revoked = record({ userId })
        await store.create(tenant, revoked, limits)
        await store.revoke(tenant, revoked.id, Date.now())
        await sleep(150)
        const fresh = [record({ userId }), record({ userId })]
        for (const session of fresh) expect((await store.create(tenant, session, limits)).created).toBe(true)
        await expect(store.create(tenant, record({ userId }), limits)).rejects.toMatchObject({
          code: 'session_limit',
        })
      })

      it('never lets a touch bring an expired session back outside the bound', async () => {
        const userId = randomName('usr')
        const limits = { maxPerUser: 1, atCap: 'refuse' } as const
        const now = Date.now()
        const lapsed = record({ userId, expiresAt: now + 100 })
        await store.create(tenant, lapsed, limits)
        await sleep(150)
        const current = record({ userId })
        await store.create(tenant, current, limits)
        await store.update(tenant, lapsed.id, { lastSeenAt: Date.now(), expiresAt: Date.now() + 60_000 })
        const actives = (await store.listForUser(tenant, userId)).filter((r) => active(r))
        expect(actives.map((r) => r.id)).toEqual([current.id])
        expect(active(await store.get(tenant, lapsed.id))).toBe(false)
      })

      it('keeps the bound of each user to that user', async () => {
        const limits = { maxPerUser: 1, atCap: 'refuse' } as const
        const [one, two] = [record(), record()]
        await store.create(tenant, one, limits)
        expect((await store.create(tenant, two, limits)).created).toBe(true)
        expect((await store.create(otherTenant, { ...one, tenantId: otherTenant }, limits)).created).toBe(
          true,
        )
      })
    })

    describe('revocation events', () => {
      it('reports a revoke and a revoke-all to onRevocation listeners', async (context) => {
        if (!store.onRevocation) return context.skip('this store does not report revocations')
        const events: RevocationEvent[] = []
        const unsubscribe = store.onRevocation((event) => events.push(event))
        const session = record()
        await store.create(tenant, session)
        const at = Date.now()
        await store.revoke(tenant, session.id, at)
        const event = await eventually(() =>
          events.find((e) => e.kind === 'session' && e.tenantId === tenant && e.sessionId === session.id),
        )
        expect(event).toMatchObject({ kind: 'session', userId: session.userId, key: session.key, at })
        await store.revokeAllForUser(tenant, session.userId, at + 1, 60_000)
        const userEvent = await eventually(() =>
          events.find((e) => e.kind === 'user' && e.tenantId === tenant),
        )
        expect(userEvent).toEqual({ kind: 'user', tenantId: tenant, userId: session.userId, at: at + 1 })
        unsubscribe()
        const other = record()
        await store.create(tenant, other)
        await store.revoke(tenant, other.id, Date.now())
        await sleep(200)
        expect(events.some((e) => e.kind === 'session' && e.sessionId === other.id)).toBe(false)
      })
    })

    if (options.client !== false) {
      describe('through CoreSDKClient', () => {
        it('100 concurrent first requests with one bearer token make one session', async () => {
          const secret = 'a-test-secret-of-at-least-thirty-two-bytes'
          const issuer = 'https://issuer.test/'
          const audience = 'coresdk-tests'
          const sdk = new CoreSDKClient({
            tenantId: tenant,
            serviceName: 'store-conformance',
            env: {},
            jwt: { issuer, audience, algorithms: ['HS256'], secret },
            sessions: { store },
          })
          try {
            const userId = randomName('usr')
            const token = await new SignJWT({ email: 'user@example.com' })
              .setProtectedHeader({ alg: 'HS256' })
              .setIssuer(issuer)
              .setAudience(audience)
              .setSubject(userId)
              .setIssuedAt(Math.floor(Date.now() / 1000) - 5)
              .setExpirationTime('5m')
              .sign(new TextEncoder().encode(secret))
            const results = await Promise.all(
              Array.from({ length: 100 }, () => sdk.authenticate({ authorization: `Bearer ${token}` })),
            )
            const ids = new Set(results.map((r) => (r.ok ? r.session?.id : `failed ${r.problem.status}`)))
            expect([...ids]).toHaveLength(1)
            expect([...ids][0]).toMatch(/^sess_/)
            expect(results.every((r) => r.ok && !r.degraded)).toBe(true)
            expect(await store.listForUser(tenant, userId)).toHaveLength(1)

            await sdk.sessions().revokeAllForUser(userId)
            const after = await sdk.authenticate({ authorization: `Bearer ${token}` })
            expect(after.ok).toBe(false)
            if (!after.ok) expect(after.problem.status).toBe(401)
          } finally {
            await sdk.close()
          }
        })

        const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes'
        const clientOf = (options: Partial<ConstructorParameters<typeof CoreSDKClient>[0]> = {}) =>
          new CoreSDKClient({
            tenantId: tenant,
            serviceName: 'store-conformance',
            env: {},
            jwt: {
              issuer: 'https://issuer.test/',
              audience: 'coresdk-tests',
              algorithms: ['HS256'],
              secret: SECRET,
            },
            ...options,
            sessions: { store, encryptionKey: new Uint8Array(32).fill(7), ...options.sessions },
          })
        let minted = 0
        /** An ID token of the user, with a jti of its own: each login is a session of its own. */
        const idToken = (userId: string) =>
          new SignJWT({ jti: `login-${Date.now()}-${++minted}` })
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuer('https://issuer.test/')
            .setAudience('coresdk-tests')
            .setSubject(userId)
            .setIssuedAt(Math.floor(Date.now() / 1000) - 5)
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode(SECRET))

        for (const atCap of ['revoke_oldest', 'refuse'] as const) {
          it(`100 concurrent logins of one user with maxPerUser 3 (${atCap}) leave exactly 3 active sessions and a consistent user index`, async () => {
            const sdk = clientOf({ sessions: { store, maxPerUser: 3, atCap } })
            try {
              const userId = randomName('usr')
              const tokens = await Promise.all(Array.from({ length: 100 }, () => idToken(userId)))
              const outcomes = await Promise.all(
                tokens.map((id_token) =>
                  sdk
                    .sessions()
                    .create({ id_token })
                    .then(
                      (session) => session.id,
                      (error: { code?: string }) => `failed: ${error.code}`,
                    ),
                ),
              )
              const created = outcomes.filter((o) => o.startsWith('sess_'))
              if (atCap === 'revoke_oldest') expect(created).toHaveLength(100)
              else {
                expect(created).toHaveLength(3)
                expect(outcomes.filter((o) => o === 'failed: session_limit')).toHaveLength(97)
              }
              const active = await sdk.sessions().listForUser(userId)
              expect(active).toHaveLength(3)
              expect(active.every((s) => created.includes(s.id))).toBe(true)
              // Every index entry names a stored session of this user: none dangles, none is missing.
              const indexed = await store.listForUser(tenant, userId)
              expect(indexed.map((r) => r.id).sort()).toEqual([...created].sort())
              for (const entry of indexed) expect((await store.get(tenant, entry.id))?.userId).toBe(userId)
              expect(await sdk.sessions().revokeAllForUser(userId)).toBe(3)
              expect(await sdk.sessions().listForUser(userId)).toHaveLength(0)
            } finally {
              await sdk.close()
            }
          })
        }

        it('keeps device metadata (client address through a trusted proxy, user agent) and lists it parsed', async () => {
          const sdk = clientOf({ trustProxy: ['10.0.0.0/8'] })
          try {
            const userId = randomName('usr')
            const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'
            const login = await sdk.sessions().create(
              { id_token: await idToken(userId) },
              {
                userAgent: firefox,
                remoteAddress: '::ffff:10.1.2.3',
                forwardedFor: '203.0.113.5, 10.9.9.9',
                // Free-form meta is kept, but never in place of what core read and checked.
                meta: { ip: 'spoofed', plan: 'pro' },
              },
            )
            const token = await idToken(userId)
            const request = await sdk.authenticate({
              authorization: `Bearer ${token}`,
              userAgent: 'curl/8.5.0',
              remoteAddress: '192.0.2.44',
              // Not from a trusted proxy: ignored.
              forwardedFor: '198.51.100.1',
            })
            expect(request.ok).toBe(true)
            const listed = await sdk.sessions().listForUser(userId)
            const byId = new Map(listed.map((s) => [s.id, s.toJSON()]))
            expect(byId.get(login.id)).toMatchObject({
              ip: '203.0.113.5',
              browser: 'Firefox 128',
              os: 'Windows',
              deviceType: 'desktop',
              meta: { userAgent: firefox, ip: '203.0.113.5', plan: 'pro' },
            })
            expect(byId.get(request.ok ? request.session!.id : '')).toMatchObject({
              ip: '192.0.2.44',
              browser: 'curl 8',
              deviceType: 'bot',
            })
          } finally {
            await sdk.close()
          }
        })
      })
    }

    describe('the refresh lock (optional: without it CoreSDK allows one refresh per session per process)', () => {
      const lockOf = (context: { skip: () => void }) => {
        const { acquireRefreshLock, releaseRefreshLock } = store
        if (acquireRefreshLock === undefined || releaseRefreshLock === undefined) return context.skip()
        return {
          acquire: (id: string, ttl = 60_000, tenantId = tenant) =>
            acquireRefreshLock.call(store, tenantId, id, ttl),
          release: (id: string, fence: number, patch?: SessionPatch, tenantId = tenant) =>
            releaseRefreshLock.call(store, tenantId, id, fence, patch),
        }
      }

      it('is taken once, refused while held, and free again once released; it answers the session as stored', async (context) => {
        const lock = lockOf(context)!
        const session = record()
        await store.create(tenant, session)
        const first = await lock.acquire(session.id)
        expect(first.fence).toEqual(expect.any(Number))
        expect(first.record).toEqual(session)
        const held = await lock.acquire(session.id)
        expect(held.fence).toBeNull()
        expect(held.record).toEqual(session)
        // Another tenant's session of the same id is another lock.
        expect((await lock.acquire(session.id, 60_000, otherTenant)).fence).toBeNull()
        await store.create(otherTenant, { ...session, tenantId: otherTenant })
        expect((await lock.acquire(session.id, 60_000, otherTenant)).fence).toEqual(expect.any(Number))

        const released = await lock.release(session.id, first.fence!)
        expect(released).toEqual({ record: session, written: false })
        const second = await lock.acquire(session.id)
        expect(second.fence).toBeGreaterThan(first.fence!)
        // A release with a fence that no longer holds the lock leaves the holder's lease alone.
        await lock.release(session.id, first.fence!)
        expect((await lock.acquire(session.id)).fence).toBeNull()

        expect(await lock.acquire(newSessionId())).toEqual({ record: null, fence: null })
        expect(await lock.release(newSessionId(), 1)).toEqual({ record: null, written: false })
      })

      it('of 50 concurrent acquires one takes the lock', async (context) => {
        const lock = lockOf(context)!
        const session = record()
        await store.create(tenant, session)
        const answers = await Promise.all(Array.from({ length: 50 }, () => lock.acquire(session.id)))
        expect(answers.filter((a) => a.fence !== null)).toHaveLength(1)
        expect(answers.every((a) => a.record?.id === session.id)).toBe(true)
      })

      it('expires after its TTL: a holder that never releases delays the next one by the TTL only', async (context) => {
        const lock = lockOf(context)!
        const session = record()
        await store.create(tenant, session)
        const dead = await lock.acquire(session.id, 300)
        expect(dead.fence).not.toBeNull()
        expect((await lock.acquire(session.id, 300)).fence).toBeNull()
        await sleep(400)
        const next = await lock.acquire(session.id, 300)
        expect(next.fence).toBeGreaterThan(dead.fence!)
      })

      it('writes the holder’s patch with the release, and refuses a stale fence once a newer one has written', async (context) => {
        const lock = lockOf(context)!
        const session = record({ tokens: 'sealed-0' })
        await store.create(tenant, session)
        // The first holder's lease runs out mid-refresh; a second holder takes the lock and writes its rotation.
        const slow = await lock.acquire(session.id, 200)
        await sleep(300)
        const fast = await lock.acquire(session.id, 60_000)
        expect(fast.fence).toBeGreaterThan(slow.fence!)
        const newer = await lock.release(session.id, fast.fence!, { tokens: 'sealed-2', lastSeenAt: 42 })
        expect(newer.written).toBe(true)
        expect(newer.record).toMatchObject({ tokens: 'sealed-2', lastSeenAt: 42 })
        // The slow holder's rotation comes last but is older: refused, and the answer is the newer one.
        const stale = await lock.release(session.id, slow.fence!, { tokens: 'sealed-1' })
        expect(stale.written).toBe(false)
        expect(stale.record?.tokens).toBe('sealed-2')
        expect((await store.get(tenant, session.id))?.tokens).toBe('sealed-2')
        // A holder whose lease ran out with nobody after it still writes: no newer rotation exists to protect.
        const alone = await lock.acquire(session.id, 200)
        await sleep(300)
        const late = await lock.release(session.id, alone.fence!, { tokens: 'sealed-3' })
        expect(late.written).toBe(true)
        expect((await store.get(tenant, session.id))?.tokens).toBe('sealed-3')
        // The release freed the lock in both cases.
        expect((await lock.acquire(session.id)).fence).toEqual(expect.any(Number))
      })

      it('a revoked session answers revoked, and a patch written with the release never clears revokedAt', async (context) => {
        const lock = lockOf(context)!
        const session = record({ tokens: 'sealed-0' })
        await store.create(tenant, session)
        const { fence } = await lock.acquire(session.id)
        await store.revoke(tenant, session.id, Date.now())
        const released = await lock.release(session.id, fence!, { tokens: 'sealed-1' })
        expect(released.record?.revokedAt).toEqual(expect.any(Number))
        expect((await lock.acquire(session.id)).record?.revokedAt).toEqual(expect.any(Number))
      })
    })

    describe('claimOnce (optional: without it CoreSDK remembers one-time keys per process)', () => {
      it('claims a one-time key once until it expires, apart per tenant; of 50 concurrent claims one wins', async (context) => {
        if (store.claimOnce === undefined) return context.skip()
        const claim = (tenantId: string, key: string, expiresAt: number) =>
          store.claimOnce!(tenantId, key, expiresAt)
        const key = randomName('logout-jti')
        const later = Date.now() + 60_000
        expect(await claim(tenant, key, later)).toBe(true)
        expect(await claim(tenant, key, later)).toBe(false)
        expect(await claim(tenant, key, later + 60_000)).toBe(false)
        expect(await claim(otherTenant, key, later)).toBe(true)
        // Any string, as for every key: separators, braces, NUL.
        for (const odd of ['a:b', '{tag}', 'nul\u0000inside', 'é漢字'])
          expect([await claim(tenant, odd, later), await claim(tenant, odd, later)]).toEqual([true, false])

        const raced = randomName('raced')
        const results = await Promise.all(Array.from({ length: 50 }, () => claim(tenant, raced, later)))
        expect(results.filter(Boolean)).toHaveLength(1)

        const brief = randomName('brief')
        expect(await claim(tenant, brief, Date.now() + 300)).toBe(true)
        expect(await claim(tenant, brief, Date.now() + 300)).toBe(false)
        await sleep(400)
        expect(await claim(tenant, brief, Date.now() + 60_000)).toBe(true)
        // A claim already expired holds nothing.
        const past = randomName('past')
        expect(await claim(tenant, past, Date.now() - 1)).toBe(true)
        expect(await claim(tenant, past, Date.now() + 60_000)).toBe(true)
      })
    })
  })
}
