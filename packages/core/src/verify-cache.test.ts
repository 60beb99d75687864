import { describe, expect, it } from 'vitest'
import { VerifyCache } from './verify-cache.ts'

describe('VerifyCache', () => {
  it('returns an entry until its expiry and never at or after it', () => {
    const cache = new VerifyCache<string>(10)
    cache.set('t', 'v', 2000, 1000)
    expect(cache.get('t', 1999)).toBe('v')
    expect(cache.get('t', 2000)).toBeUndefined()
    // The expired entry was dropped on that lookup.
    expect(cache.size).toBe(0)
    expect(cache.get('t', 1500)).toBeUndefined()
  })

  it('does not keep an entry that is already expired', () => {
    const cache = new VerifyCache<string>(10)
    cache.set('t', 'v', 1000, 1000)
    expect(cache.size).toBe(0)
  })

  it('evicts the oldest entry when full', () => {
    const cache = new VerifyCache<number>(3)
    for (const [i, token] of ['a', 'b', 'c', 'd'].entries()) cache.set(token, i, 10_000, 0)
    expect(cache.size).toBe(3)
    expect(cache.get('a', 1)).toBeUndefined()
    expect([cache.get('b', 1), cache.get('c', 1), cache.get('d', 1)]).toEqual([1, 2, 3])
    // Setting a token already held does not evict another.
    cache.set('d', 4, 10_000, 0)
    expect(cache.size).toBe(3)
    expect(cache.get('b', 1)).toBe(1)
  })

  it('stores nothing when its capacity is 0', () => {
    const cache = new VerifyCache<string>(0)
    cache.set('t', 'v', 10_000, 0)
    expect(cache.get('t', 1)).toBeUndefined()
    expect(cache.size).toBe(0)
  })
})
