import { describe, expect, it } from 'vitest'
import { newSessionId } from './crypto.ts'
import { SessionCache, type SessionCacheOptions } from './session-cache.ts'
import type { RevocationEvent, SessionRecord } from './types.ts'

let n = 0

function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  n++
  const userId = overrides.userId ?? `usr_${n}`
  return {
    id: newSessionId(now),
    tenantId: 't',
    userId,
    key: `sid:${n}`,
    origin: 'token',
    createdAt: now,
    issuedAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * 60_000,
    absoluteExpiresAt: now + 24 * 3_600_000,
    revokedAt: null,
    retainUntil: now + 24 * 3_600_000,
    claims: { sub: userId },
    secretHash: null,
    tokens: null,
    meta: {},
    ...overrides,
  }
}

function revocationOf(revoked: SessionRecord, at: number): RevocationEvent {
  const { tenantId, id: sessionId, key, userId } = revoked
  return { kind: 'session', tenantId, sessionId, key, userId, at }
}

function setup(options: SessionCacheOptions = {}) {
  let now = 1_000_000
  const cache = new SessionCache({ maxStaleness: 1000, ...options }, () => now)
  cache.trust()
  return { cache, advance: (ms: number) => (now += ms), now: () => now }
}

describe('SessionCache, the cache in front of the Redis and PostgreSQL stores', () => {
  it('serves a session by id and by key until maxStaleness has passed', () => {
    const { cache, advance } = setup()
    const one = record()
    cache.put('t', one, cache.epoch)
    expect(cache.get('t', one.id)).toEqual(one)
    expect(cache.getByKey('t', one.key!)).toEqual(one)
    advance(999)
    expect(cache.get('t', one.id)).toEqual(one)
    advance(1)
    expect(cache.get('t', one.id)).toBeUndefined()
    expect(cache.getByKey('t', one.key!)).toBeUndefined()
  })

  it('never serves a record past its retainUntil', () => {
    const { cache, advance, now } = setup({ maxStaleness: 60_000 })
    const short = record({ retainUntil: now() + 100 })
    cache.put('t', short, cache.epoch)
    advance(100)
    expect(cache.get('t', short.id)).toBeUndefined()
  })

  it('hands out frozen records, so a caller cannot change what is cached', () => {
    const { cache } = setup()
    const one = record()
    cache.put('t', one, cache.epoch)
    const cached = cache.get('t', one.id)!
    expect(() => {
      cached.revokedAt = 1
    }).toThrow(TypeError)
    expect(() => {
      cached.claims.sub = 'someone else'
    }).toThrow(TypeError)
    one.revokedAt = 2
    expect(cache.get('t', one.id)?.revokedAt).toBeNull()
  })

  it('does not cache an active record read before a revocation message arrived', () => {
    const { cache } = setup()
    const one = record()
    const epoch = cache.epoch
    cache.apply(revocationOf(one, 5))
    cache.put('t', one, epoch)
    expect(cache.get('t', one.id)).toBeUndefined()
    // A revoked record is final: cached whatever happened meanwhile.
    cache.put('t', { ...one, revokedAt: 5 }, epoch)
    expect(cache.get('t', one.id)?.revokedAt).toBe(5)
  })

  it('caches nothing a read brought back when trust began or a message arrived while it was in flight', () => {
    const { cache } = setup()
    const before = cache.epoch
    cache.distrust()
    cache.trust()
    const one = record()
    cache.put('t', one, before)
    expect(cache.get('t', one.id)).toBeUndefined()
    const epoch = cache.epoch
    cache.apply({ kind: 'user', tenantId: 't', userId: 'someone', at: 1 })
    cache.put('t', one, epoch)
    cache.putMarker('t', one.userId, null, epoch)
    expect(cache.get('t', one.id)).toBeUndefined()
    expect(cache.getMarker('t', one.userId)).toBeUndefined()
  })

  it('caches nothing a read started before everything was forgotten (an unreadable message)', () => {
    const { cache } = setup()
    const one = record()
    const epoch = cache.epoch
    cache.forgetAll()
    cache.put('t', one, epoch)
    expect(cache.get('t', one.id)).toBeUndefined()
  })

  it('marks a cached session revoked on a session message, and forgets a user on a user message', () => {
    const { cache } = setup()
    const one = record()
    const two = record({ userId: one.userId })
    const other = record()
    const sameUserOtherTenant = record({ tenantId: 'u', userId: one.userId })
    for (const r of [one, two, other]) cache.put('t', r, cache.epoch)
    cache.put('u', sameUserOtherTenant, cache.epoch)
    cache.putMarker('t', one.userId, null, cache.epoch)
    cache.apply(revocationOf(one, 7))
    expect(cache.get('t', one.id)?.revokedAt).toBe(7)
    expect(cache.getByKey('t', one.key!)?.revokedAt).toBe(7)
    cache.apply({ kind: 'user', tenantId: 't', userId: one.userId, at: 9 })
    expect(cache.get('t', one.id)).toBeUndefined()
    expect(cache.get('t', two.id)).toBeUndefined()
    expect(cache.getMarker('t', one.userId)).toBeUndefined()
    expect(cache.get('t', other.id)).toEqual(other)
    expect(cache.get('u', sameUserOtherTenant.id)).toEqual(sameUserOtherTenant)
  })

  it('keeps tenants apart whatever characters they hold', () => {
    const { cache } = setup()
    const one = record({ tenantId: 'a\u0000', id: 'b' })
    cache.put('a\u0000', one, cache.epoch)
    expect(cache.get('a', '\u0000b')).toBeUndefined()
    expect(cache.get('a\u0000', 'b')?.id).toBe('b')
  })

  it("never answers one tenant with another's session of the same id or key: the later one takes the place", () => {
    const { cache } = setup()
    const a = record({ tenantId: 'a', id: 'same', key: 'tok:same' })
    const b = record({ tenantId: 'b', id: 'same', key: 'tok:same', userId: 'someone-else' })
    cache.put('a', a, cache.epoch)
    cache.put('b', b, cache.epoch)
    expect(cache.get('a', 'same')).toBeUndefined()
    expect(cache.getByKey('a', 'tok:same')).toBeUndefined()
    expect(cache.owner('a', 'same')).toBeUndefined()
    expect(cache.get('b', 'same')?.userId).toBe('someone-else')
    expect(cache.getByKey('b', 'tok:same')?.userId).toBe('someone-else')
    cache.putMarker('a', 'u1', 5, cache.epoch)
    cache.putMarker('b', 'u1', 6, cache.epoch)
    expect(cache.getMarker('a', 'u1')).toBeUndefined()
    expect(cache.getMarker('b', 'u1')).toBe(6)
    // A revocation of tenant a's session never marks tenant b's, and drops what sits in its place.
    cache.apply({
      kind: 'session',
      tenantId: 'a',
      sessionId: 'same',
      key: 'tok:same',
      userId: a.userId,
      at: 9,
    })
    expect(cache.get('b', 'same')).toBeUndefined()
    expect(cache.get('a', 'same')).toBeUndefined()
  })

  it('serves nothing while distrusted and forgets what it had', () => {
    const { cache } = setup()
    const one = record()
    cache.put('t', one, cache.epoch)
    cache.distrust()
    expect(cache.get('t', one.id)).toBeUndefined()
    cache.put('t', one, cache.epoch)
    cache.trust()
    expect(cache.get('t', one.id)).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0, trusted: true })
  })

  it('keeps at most maxEntries sessions, dropping the oldest', () => {
    const { cache } = setup({ maxEntries: 3 })
    const records = Array.from({ length: 5 }, () => record())
    for (const r of records) cache.put('t', r, cache.epoch)
    expect(cache.stats().entries).toBe(3)
    expect(cache.get('t', records[0]!.id)).toBeUndefined()
    expect(cache.get('t', records[4]!.id)).toEqual(records[4])
  })

  it('caches nothing when maxStaleness is 0 (or less), but remembers whose a session id is', () => {
    for (const maxStaleness of [0, -1]) {
      const { cache } = setup({ maxStaleness })
      const one = record()
      cache.put('t', one, cache.epoch)
      expect(cache.enabled).toBe(false)
      expect(cache.get('t', one.id)).toBeUndefined()
      // The owner of an id never changes, so it is kept even then.
      expect(cache.owner('t', one.id)).toBe(one.userId)
    }
  })

  it('forgets the sessions of a user cached before a user message, and serves those cached after it', () => {
    const { cache } = setup()
    const before = record()
    const after = record({ userId: before.userId })
    cache.put('t', before, cache.epoch)
    cache.apply({ kind: 'user', tenantId: 't', userId: before.userId, at: 1 })
    cache.put('t', after, cache.epoch)
    expect(cache.get('t', before.id)).toBeUndefined()
    expect(cache.getByKey('t', before.key!)).toBeUndefined()
    expect(cache.get('t', after.id)).toEqual(after)
  })

  it('forgets every user rather than a revoke-all when more users are forgotten at once than it holds', () => {
    const { cache } = setup({ maxEntries: 2 })
    const records = Array.from({ length: 2 }, () => record())
    for (const r of records) cache.put('t', r, cache.epoch)
    for (const r of records) cache.apply({ kind: 'user', tenantId: 't', userId: r.userId, at: 1 })
    // A third user's message while both marks are still needed: one mark would have to go.
    cache.apply({ kind: 'user', tenantId: 't', userId: 'usr_third', at: 1 })
    for (const r of records) expect(cache.get('t', r.id)).toBeUndefined()
  })
})

describe('SessionCache.shared, one store read for the requests that miss together', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void
    let reject!: (error: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }

  it('sends one read for callers that miss while it is in flight, each given its own copy', async () => {
    const { cache } = setup()
    const one = record()
    const answer = deferred<SessionRecord | null>()
    let reads = 0
    const read = () => {
      reads++
      return answer.promise
    }
    const calls = [1, 2, 3].map(() => cache.shared('key', 't', one.key!, read))
    expect(reads).toBe(1)
    answer.resolve(one)
    const [first, second, third] = await Promise.all(calls)
    expect(first).toBe(one)
    expect(second).toEqual(one)
    expect(second).not.toBe(one)
    expect(third).not.toBe(second)
    // Settled: the next miss reads again.
    await cache.shared('key', 't', one.key!, async () => {
      reads++
      return one
    })
    expect(reads).toBe(2)
  })

  it('does not share a read that began before a revocation message with a caller that came after it', async () => {
    const { cache } = setup()
    const one = record()
    const before = deferred<SessionRecord | null>()
    const reads: string[] = []
    const early = cache.shared('key', 't', one.key!, () => {
      reads.push('before')
      return before.promise
    })
    cache.apply(revocationOf(one, Date.now()))
    const late = cache.shared('key', 't', one.key!, async () => {
      reads.push('after')
      return { ...one, revokedAt: 1 }
    })
    before.resolve(one)
    expect(reads).toEqual(['before', 'after'])
    expect((await early)?.revokedAt).toBeNull()
    expect((await late)?.revokedAt).toBe(1)
  })

  it('keeps kinds, tenants and names apart', async () => {
    const { cache } = setup()
    const pending = deferred<string>()
    let reads = 0
    const read = () => {
      reads++
      return pending.promise
    }
    const calls = [
      cache.shared('key', 't', 'x', read),
      cache.shared('id', 't', 'x', read),
      cache.shared('key', 'u', 'x', read),
      cache.shared('key', 't', 'y', read),
      // Tenant "t1" with name "x" against tenant "t" with name "1x": no spelling of one is the other.
      cache.shared('key', 't1', 'x', read),
      cache.shared('key', 't', '1x', read),
    ]
    expect(reads).toBe(6)
    pending.resolve('ok')
    expect(await Promise.all(calls)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok'])
  })

  it('gives every caller the failure of a shared read, then reads again', async () => {
    const { cache } = setup()
    const failing = deferred<number | null>()
    let reads = 0
    const read = () => {
      reads++
      return failing.promise
    }
    const a = cache.shared('marker', 't', 'usr_1', read)
    const b = cache.shared('marker', 't', 'usr_1', read)
    failing.reject(new Error('store down'))
    await expect(a).rejects.toThrow('store down')
    await expect(b).rejects.toThrow('store down')
    await expect(cache.shared('marker', 't', 'usr_1', async () => ++reads)).resolves.toBe(2)
  })

  it('shares nothing while distrusted or disabled: every caller reads', async () => {
    for (const cache of [new SessionCache({ maxStaleness: 1000 }), setup({ maxStaleness: 0 }).cache]) {
      let reads = 0
      const read = async () => ++reads
      await Promise.all([cache.shared('id', 't', 'a', read), cache.shared('id', 't', 'a', read)])
      expect(reads).toBe(2)
    }
  })
})
