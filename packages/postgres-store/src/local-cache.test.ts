import { makeSessionRecord } from '@coresdk/testing'
import { describe, expect, it } from 'vitest'
import { LocalCache } from './local-cache.ts'

function setup(options: { maxStaleness?: number; maxEntries?: number } = {}) {
  let now = 1_000_000
  const cache = new LocalCache({ maxStaleness: 1000, ...options }, () => now)
  cache.trust()
  return { cache, advance: (ms: number) => (now += ms), now: () => now }
}

describe('the PostgreSQL store’s LocalCache', () => {
  it('serves a session by id and by key for maxStaleness, never past its retainUntil', () => {
    const { cache, advance, now } = setup()
    const record = makeSessionRecord({ tenantId: 't' })
    const short = makeSessionRecord({ tenantId: 't', retainUntil: now() + 100 })
    cache.put('t', record, cache.epoch)
    cache.put('t', short, cache.epoch)
    expect(cache.getByKey('t', record.key!)).toEqual(record)
    advance(100)
    expect(cache.get('t', short.id)).toBeUndefined()
    advance(899)
    expect(cache.get('t', record.id)).toEqual(record)
    advance(1)
    expect(cache.get('t', record.id)).toBeUndefined()
    expect(cache.getByKey('t', record.key!)).toBeUndefined()
  })

  it('caches nothing a read brought back when trust began or a notification arrived while it was in flight', () => {
    const { cache } = setup()
    const before = cache.epoch
    cache.distrust()
    cache.trust()
    const record = makeSessionRecord({ tenantId: 't' })
    cache.put('t', record, before)
    expect(cache.get('t', record.id)).toBeUndefined()
    const epoch = cache.epoch
    cache.apply({ kind: 'user', tenantId: 't', userId: 'someone', at: 1 })
    cache.put('t', record, epoch)
    cache.putMarker('t', record.userId, null, epoch)
    expect(cache.get('t', record.id)).toBeUndefined()
    expect(cache.getMarker('t', record.userId)).toBeUndefined()
    // A revoked record is final: cached whatever happened meanwhile.
    cache.put('t', { ...record, revokedAt: 5 }, epoch)
    expect(cache.get('t', record.id)?.revokedAt).toBe(5)
  })

  it('marks a cached session revoked on its notification, and forgets a user’s sessions and cutoff on a revoke-all', () => {
    const { cache } = setup()
    const mine = makeSessionRecord({ tenantId: 't', userId: 'u' })
    const theirs = makeSessionRecord({ tenantId: 't', userId: 'v' })
    for (const record of [mine, theirs]) cache.put('t', record, cache.epoch)
    cache.putMarker('t', 'u', null, cache.epoch)
    cache.apply({ kind: 'session', tenantId: 't', sessionId: theirs.id, key: theirs.key, userId: 'v', at: 7 })
    expect(cache.getByKey('t', theirs.key!)?.revokedAt).toBe(7)
    cache.apply({ kind: 'user', tenantId: 't', userId: 'u', at: 9 })
    expect(cache.get('t', mine.id)).toBeUndefined()
    expect(cache.getMarker('t', 'u')).toBeUndefined()
    expect(cache.get('t', theirs.id)?.revokedAt).toBe(7)
  })

  it('keeps tenants apart whatever characters they hold', () => {
    const { cache } = setup()
    const record = makeSessionRecord({ tenantId: 'a\u0000', id: 'b' })
    cache.put('a\u0000', record, cache.epoch)
    expect(cache.get('a', '\u0000b')).toBeUndefined()
    expect(cache.get('a\u0000', 'b')?.id).toBe('b')
  })

  it('serves nothing while distrusted, nor when maxStaleness is 0, and keeps at most maxEntries', () => {
    const { cache } = setup({ maxEntries: 2 })
    const records = [1, 2, 3].map(() => makeSessionRecord({ tenantId: 't' }))
    for (const record of records) cache.put('t', record, cache.epoch)
    expect(cache.get('t', records[0]!.id)).toBeUndefined()
    expect(cache.stats().entries).toBe(2)
    cache.distrust()
    expect(cache.get('t', records[2]!.id)).toBeUndefined()
    const off = setup({ maxStaleness: 0 }).cache
    off.put('t', records[0]!, off.epoch)
    expect(off.get('t', records[0]!.id)).toBeUndefined()
  })
})
