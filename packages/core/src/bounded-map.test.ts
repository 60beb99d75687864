import { describe, expect, it } from 'vitest'
import { BoundedMap } from './bounded-map.ts'

describe('BoundedMap', () => {
  it('returns an entry until its expiry and never at or after it', () => {
    const map = new BoundedMap<string, string>(10)
    map.set('t', 'v', 2000)
    expect(map.get('t', 1999)).toBe('v')
    expect(map.get('t', 2000)).toBeUndefined()
    // The expired entry was dropped on that lookup.
    expect(map.size).toBe(0)
    expect(map.get('t', 1500)).toBeUndefined()
  })

  it('evicts the oldest-written entry when full, and setting a held key evicts nothing', () => {
    const map = new BoundedMap<string, number>(3)
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i)
    expect(map.size).toBe(3)
    expect(map.get('a')).toBeUndefined()
    expect([map.get('b'), map.get('c'), map.get('d')]).toEqual([1, 2, 3])
    expect(map.set('d', 4)).toBeUndefined()
    expect(map.size).toBe(3)
    // Reads do not change the order by default: b is still the oldest.
    expect(map.set('e', 5)).toEqual(['b', 1])
  })

  it('with read recency, evicts the least recently used entry', () => {
    const map = new BoundedMap<string, number>(2, { recency: 'read' })
    map.set('a', 1)
    map.set('b', 2)
    map.get('a')
    expect(map.set('c', 3)).toEqual(['b', 2])
    expect(map.get('a')).toBe(1)
  })

  it('prunes expired entries from the front and sweeps them from anywhere', () => {
    const map = new BoundedMap<string, number>(10)
    map.set('a', 1, 100)
    map.set('b', 2, 1000)
    map.set('c', 3, 100)
    expect(map.prune(500)).toBe(1)
    expect([...map.entries(500)].map(([k]) => k)).toEqual(['b'])
    expect(map.size).toBe(2)
    expect(map.sweep(500)).toBe(1)
    expect(map.size).toBe(1)
  })

  it('stores nothing when its capacity is 0', () => {
    const map = new BoundedMap<string, string>(0)
    map.set('t', 'v')
    expect(map.get('t')).toBeUndefined()
    expect(map.size).toBe(0)
  })
})
