import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { newSessionId } from './crypto.ts'
import { CoreSDKError } from './errors.ts'
import { MemorySessionStore, type MemorySessionStoreOptions } from './memory-session-store.ts'
import type { RevocationEvent, SessionRecord } from './types.ts'

const T = 'acme'
const MINUTE = 60_000
const HOUR = 60 * MINUTE
let n = 0

/** An active token session created now: 30 min idle, 1 h absolute, retained 1 h. */
function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  n++
  return {
    id: newSessionId(now),
    tenantId: T,
    userId: `usr_${n}`,
    key: `sid:${n}`,
    origin: 'token',
    createdAt: now,
    issuedAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + HOUR,
    revokedAt: null,
    retainUntil: now + HOUR,
    claims: { sub: overrides.userId ?? `usr_${n}` },
    secretHash: null,
    tokens: null,
    meta: {},
    ...overrides,
  }
}

function storeOf(options: MemorySessionStoreOptions): MemorySessionStore {
  return new MemorySessionStore({ sweepInterval: 0, ...options })
}

/** How a call ended: 'resolved', or the CoreSDKError code it rejected with. */
async function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => 'resolved',
    (error: unknown) => (error instanceof CoreSDKError ? error.code : `not a CoreSDKError: ${error}`),
  )
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(1_800_000_000_000)
})
afterEach(() => vi.useRealTimers())

describe('MemorySessionStore at its cap (maxSessions)', () => {
  it('evicts an expired record first, even one used more recently than a live one', async () => {
    const store = storeOf({ maxSessions: 3 })
    const idle = session()
    const lapsing = session({ expiresAt: Date.now() + 1000 })
    const third = session()
    for (const s of [idle, lapsing, third]) await store.create(T, s)
    vi.advanceTimersByTime(5000)
    // The expired one is the most recently read: recency alone would keep it and evict `idle`.
    await store.get(T, lapsing.id)
    await store.create(T, session())
    expect(store.size).toBe(3)
    expect(await store.get(T, lapsing.id)).toBeNull()
    expect(await store.get(T, idle.id)).not.toBeNull()
  })

  it('then a revoked record, whose credential stays refused without it', async () => {
    const store = storeOf({ maxSessions: 2 })
    const revoked = session()
    const live = session()
    for (const s of [revoked, live]) await store.create(T, s)
    await store.revoke(T, revoked.id, Date.now())
    await store.get(T, revoked.id)
    await store.create(T, session())
    expect(await store.get(T, revoked.id)).toBeNull()
    expect(await store.get(T, live.id)).not.toBeNull()
    // The same credential, presented again: stored already revoked, never a fresh active session.
    const again = await store.create(T, session({ userId: revoked.userId, key: revoked.key }))
    expect(again.record.revokedAt).not.toBeNull()
  })

  it('then the least recently used live record', async () => {
    const store = storeOf({ maxSessions: 3 })
    const [a, b, c] = [session(), session(), session()]
    for (const s of [a, b, c]) await store.create(T, s)
    await store.getByKey(T, a.key!)
    await store.create(T, session())
    expect(await store.get(T, b.id)).toBeNull()
    for (const s of [a, c]) expect(await store.get(T, s.id)).not.toBeNull()
  })

  it("keeps a user's revoke-all in force after every record of the user was evicted", async () => {
    const store = storeOf({ maxSessions: 2 })
    const old = session()
    await store.create(T, old)
    const at = Date.now()
    await store.revokeAllForUser(T, old.userId, at, HOUR)
    for (let i = 0; i < 5; i++) await store.create(T, session())
    expect(await store.get(T, old.id)).toBeNull()
    const replay = await store.create(T, session({ userId: old.userId, issuedAt: at - 1000 }))
    expect(replay.record.revokedAt).toBe(at)
  })

  it('never gives a revoked credential back, however many sessions come after it', async () => {
    const store = storeOf({ maxSessions: 10, maxRevocations: 1000 })
    const revoked = Array.from({ length: 50 }, () => session())
    for (const s of revoked) {
      await store.create(T, s)
      await store.revoke(T, s.id, Date.now())
    }
    for (let i = 0; i < 500; i++) await store.create(T, session())
    expect(store.size).toBe(10)
    for (const s of revoked) {
      const again = await store.create(T, session({ userId: s.userId, key: s.key }))
      expect(again.record.revokedAt, s.key!).not.toBeNull()
    }
  })

  it('drops records past their retention when it sweeps', async () => {
    const store = storeOf({ maxSessions: 10 })
    const short = session({ retainUntil: Date.now() + 1000, expiresAt: Date.now() + 1000 })
    await store.create(T, short)
    await store.create(T, session())
    vi.advanceTimersByTime(1000)
    store.sweep()
    expect(store.size).toBe(1)
  })
})

describe('MemorySessionStore revocations kept apart (maxRevocations)', () => {
  it('makes live sessions give way, least recently used first, to keep room for their revocations', async () => {
    const store = storeOf({ maxSessions: 100, maxRevocations: 4 })
    const revoked = [session(), session()]
    for (const s of revoked) {
      await store.create(T, s)
      await store.revoke(T, s.id, Date.now())
    }
    const [a, b] = [session(), session()]
    for (const s of [a, b]) await store.create(T, s)
    await store.get(T, a.id)
    // 2 revocations kept + 2 live ones that may be revoked = 4: a third live session needs one to go.
    await store.create(T, session())
    expect(await store.get(T, b.id)).toBeNull()
    expect(await store.get(T, a.id)).not.toBeNull()
    // And the revocation of every live one still finds room.
    await store.revoke(T, a.id, Date.now())
    expect(store.revocations.keys).toBe(3)
  })

  it('refuses a new session, with an error that is not store_unavailable, once unexpired revocations fill it', async () => {
    const store = storeOf({ maxSessions: 100, maxRevocations: 3 })
    const revoked = [session(), session(), session()]
    for (const s of revoked) {
      await store.create(T, s)
      await store.revoke(T, s.id, Date.now())
    }
    expect(await outcome(store.create(T, session()))).toBe('internal_error')
    // Nothing was forgotten to make room.
    for (const s of revoked) {
      const again = await store.create(T, session({ userId: s.userId, key: s.key }))
      expect(again.record.revokedAt).not.toBeNull()
    }
    // Once they expire, sessions start again.
    vi.advanceTimersByTime(HOUR + 1000)
    expect(await outcome(store.create(T, session()))).toBe('resolved')
  })

  it('holds every user to a revoke-all marker it had to let go, instead of forgetting it', async () => {
    const store = storeOf({ maxSessions: 100, maxRevocations: 2 })
    const at = Date.now()
    for (const userId of ['usr_a', 'usr_b', 'usr_c']) await store.revokeAllForUser(T, userId, at, HOUR)
    // usr_a's marker made way: it now holds for everyone, so an old token of usr_a (or anyone) starts nothing.
    expect(await outcome(store.create(T, session({ userId: 'usr_a', issuedAt: at - 1 })))).toBe(
      'internal_error',
    )
    expect(await outcome(store.create(T, session({ issuedAt: at })))).toBe('internal_error')
    expect(await store.getUserRevokedAt(T, 'usr_a')).toBe(at)
    const later = await store.create(T, session({ issuedAt: at + 1 }))
    expect(later.record.revokedAt).toBeNull()
    vi.advanceTimersByTime(HOUR + 1)
    expect(await outcome(store.create(T, session({ issuedAt: at - 1 })))).toBe('resolved')
  })
})

describe('MemorySessionStore per-user bound', () => {
  it('keeps 1000 active sessions per user when create is given no limits', async () => {
    const store = storeOf({})
    const userId = 'usr_many'
    for (let i = 0; i < 1001; i++) await store.create(T, session({ userId }))
    const active = (await store.listForUser(T, userId)).filter((s) => s.revokedAt === null)
    expect(active).toHaveLength(1000)
  })

  it('revokes the oldest at the cap and reports it to listeners, like revoke', async () => {
    const store = storeOf({})
    const events: RevocationEvent[] = []
    store.onRevocation((event) => events.push(event))
    const userId = 'usr_capped'
    const first = session({ userId })
    await store.create(T, first, { maxPerUser: 1, atCap: 'revoke_oldest' })
    await store.create(T, session({ userId }), { maxPerUser: 1, atCap: 'revoke_oldest' })
    expect(events).toEqual([
      { kind: 'session', tenantId: T, sessionId: first.id, key: first.key, userId, at: Date.now() },
    ])
  })

  it('lists at most 100 ended sessions of a user beside the active ones', async () => {
    const store = storeOf({})
    const userId = 'usr_churn'
    for (let i = 0; i < 300; i++)
      await store.create(T, session({ userId }), { maxPerUser: 5, atCap: 'revoke_oldest' })
    const listed = await store.listForUser(T, userId)
    expect(listed.filter((s) => s.revokedAt === null)).toHaveLength(5)
    expect(listed.filter((s) => s.revokedAt !== null)).toHaveLength(100)
  })
})

describe('MemorySessionStore options', () => {
  it('fails closed on limits that would bound nothing', async () => {
    const store = storeOf({})
    for (const limits of [
      { maxPerUser: Number.NaN, atCap: 'refuse' },
      { maxPerUser: 3, atCap: 'evict' },
    ]) {
      expect(await outcome(store.create(T, session(), limits as never))).toBe('internal_error')
    }
  })

  it('refuses a cap that is not a positive integer, naming the setting', () => {
    expect(() => new MemorySessionStore({ maxSessions: 0 })).toThrow(/maxSessions/)
    expect(() => new MemorySessionStore({ maxRevocations: 1.5 })).toThrow(/maxRevocations/)
  })
})
