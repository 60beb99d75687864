import { makeSessionRecord } from '@coresdk/testing/vitest'
import { describe, expect, it } from 'vitest'
import { LocalCache } from './local-cache.ts'

function setup(options: { maxStaleness?: number; maxEntries?: number } = {}) {
  let now = 1_000_000
  const cache = new LocalCache({ maxStaleness: 1000, ...options }, () => now)
  cache.trust()
  return { cache, advance: (ms: number) => (now += ms), now: () => now }
}

describe('LocalCache', () => {
  it('serves a session by id and by key until maxStaleness has passed', () => {
    const { cache, advance } = setup()
    const record = makeSessionRecord({ tenantId: 't' })
    cache.put('t', record, cache.epoch)
    expect(cache.get('t', record.id)).toEqual(record)
    expect(cache.getByKey('t', record.key!)).toEqual(record)
    advance(999)
    expect(cache.get('t', record.id)).toEqual(record)
    advance(1)
    expect(cache.get('t', record.id)).toBeUndefined()
    expect(cache.getByKey('t', record.key!)).toBeUndefined()
  })

  it('never serves a record past its retainUntil', () => {
    const { cache, advance, now } = setup({ maxStaleness: 60_000 })
    const record = makeSessionRecord({ tenantId: 't', retainUntil: now() + 100 })
    cache.put('t', record, cache.epoch)
    advance(100)
    expect(cache.get('t', record.id)).toBeUndefined()
  })

  it('hands out frozen records, so a caller cannot change what is cached', () => {
    const { cache } = setup()
    const record = makeSessionRecord({ tenantId: 't' })
    cache.put('t', record, cache.epoch)
    const cached = cache.get('t', record.id)!
    expect(() => {
      cached.revokedAt = 1
    }).toThrow(TypeError)
    expect(() => {
      cached.claims.sub = 'someone else'
    }).toThrow(TypeError)
    record.revokedAt = 2
    expect(cache.get('t', record.id)?.revokedAt).toBeNull()
  })

  it('does not cache an active record read before a revocation message arrived', () => {
    const { cache } = setup()
    const record = makeSessionRecord({ tenantId: 't' })
    const epoch = cache.epoch
    cache.apply({
      kind: 'session',
      tenantId: 't',
      sessionId: record.id,
      key: record.key,
      userId: record.userId,
      at: 5,
    })
    cache.put('t', record, epoch)
    expect(cache.get('t', record.id)).toBeUndefined()
    cache.put('t', { ...record, revokedAt: 5 }, epoch)
    expect(cache.get('t', record.id)?.revokedAt).toBe(5)
  })

  it('marks a cached session revoked on a session message, and forgets a user on a user message', () => {
    const { cache } = setup()
    const one = makeSessionRecord({ tenantId: 't' })
    const two = makeSessionRecord({ tenantId: 't', userId: one.userId })
    const other = makeSessionRecord({ tenantId: 't' })
    const sameUserOtherTenant = makeSessionRecord({ tenantId: 'u', userId: one.userId })
    for (const r of [one, two, other]) cache.put('t', r, cache.epoch)
    cache.put('u', sameUserOtherTenant, cache.epoch)
    cache.putMarker('t', one.userId, null, cache.epoch)
    cache.apply({
      kind: 'session',
      tenantId: 't',
      sessionId: one.id,
      key: one.key,
      userId: one.userId,
      at: 7,
    })
    expect(cache.get('t', one.id)?.revokedAt).toBe(7)
    expect(cache.getByKey('t', one.key!)?.revokedAt).toBe(7)
    cache.apply({ kind: 'user', tenantId: 't', userId: one.userId, at: 9 })
    expect(cache.get('t', one.id)).toBeUndefined()
    expect(cache.get('t', two.id)).toBeUndefined()
    expect(cache.getMarker('t', one.userId)).toBeUndefined()
    expect(cache.get('t', other.id)).toEqual(other)
    expect(cache.get('u', sameUserOtherTenant.id)).toEqual(sameUserOtherTenant)
  })

  it('serves nothing while distrusted and forgets what it had', () => {
    const { cache } = setup()
    const record = makeSessionRecord({ tenantId: 't' })
    cache.put('t', record, cache.epoch)
    cache.distrust()
    expect(cache.get('t', record.id)).toBeUndefined()
    cache.put('t', record, cache.epoch)
    cache.trust()
    expect(cache.get('t', record.id)).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0, trusted: true })
  })

  it('keeps at most maxEntries sessions, dropping the oldest', () => {
    const { cache } = setup({ maxEntries: 3 })
    const records = Array.from({ length: 5 }, () => makeSessionRecord({ tenantId: 't' }))
    for (const r of records) cache.put('t', r, cache.epoch)
    expect(cache.stats().entries).toBe(3)
    expect(cache.get('t', records[0]!.id)).toBeUndefined()
    expect(cache.get('t', records[4]!.id)).toEqual(records[4])
  })

  it('caches nothing when maxStaleness is 0', () => {
    const { cache } = setup({ maxStaleness: 0 })
    const record = makeSessionRecord({ tenantId: 't' })
    cache.put('t', record, cache.epoch)
    expect(cache.get('t', record.id)).toBeUndefined()
    // The owner of an id never changes, so it is kept even then.
    expect(cache.owner('t', record.id)).toBe(record.userId)
  })

  it('forgets the sessions of a user cached before a user message, and serves those cached after it', () => {
    const { cache } = setup()
    const before = makeSessionRecord({ tenantId: 't' })
    const after = makeSessionRecord({ tenantId: 't', userId: before.userId })
    cache.put('t', before, cache.epoch)
    cache.apply({ kind: 'user', tenantId: 't', userId: before.userId, at: 1 })
    cache.put('t', after, cache.epoch)
    expect(cache.get('t', before.id)).toBeUndefined()
    expect(cache.getByKey('t', before.key!)).toBeUndefined()
    expect(cache.get('t', after.id)).toEqual(after)
  })

  it('forgets every user rather than a revoke-all when more users are forgotten at once than it holds', () => {
    const { cache } = setup({ maxEntries: 2 })
    const records = Array.from({ length: 2 }, () => makeSessionRecord({ tenantId: 't' }))
    for (const r of records) cache.put('t', r, cache.epoch)
    for (const r of records) cache.apply({ kind: 'user', tenantId: 't', userId: r.userId, at: 1 })
    // A third user's message while both marks are still needed: one mark would have to go.
    cache.apply({ kind: 'user', tenantId: 't', userId: 'usr_third', at: 1 })
    for (const r of records) expect(cache.get('t', r.id)).toBeUndefined()
  })
})
