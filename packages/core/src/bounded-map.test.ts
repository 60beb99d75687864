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

  it('finds its first entry in O(1) however many entries were evicted before it', () => {
    // A Map keeps the place of each deleted entry until its table is rebuilt; reaching the first entry through a
    // fresh iterator would walk all of them, making every insert into a full map cost as much as its size.
    const capacity = 50_000
    const evictions = 20_000
    const bounded = (recency: 'read' | 'write') => {
      const map = new BoundedMap<number, number>(capacity, { recency })
      for (let i = 0; i < capacity; i++) map.set(i, i)
      const started = performance.now()
      for (let i = capacity; i < capacity + evictions; i++) {
        map.set(i, i)
        if (recency === 'read') map.get(i - 3)
        map.peek()
      }
      return performance.now() - started
    }
    // The same evictions on a plain Map that knows which key is oldest: the floor.
    const plain = () => {
      const map = new Map<number, { value: number }>()
      for (let i = 0; i < capacity; i++) map.set(i, { value: i })
      const started = performance.now()
      for (let i = capacity; i < capacity + evictions; i++) {
        map.delete(i - capacity)
        map.set(i, { value: i })
      }
      return performance.now() - started
    }
    const best = (run: () => number) => Math.min(run(), run(), run())
    const floor = best(plain)
    for (const recency of ['write', 'read'] as const) {
      const took = best(() => bounded(recency))
      // Walking the evicted places costs about 50 times the floor here; a loaded machine gets a wide margin.
      expect(took, `${recency}: ${took.toFixed(1)} ms vs ${floor.toFixed(1)} ms`).toBeLessThan(
        floor * 15 + 10,
      )
    }
  })

  it('keeps its order across evictions, rewrites and reads', () => {
    const map = new BoundedMap<string, number>(3, { recency: 'read' })
    map.set('a', 1)
    map.set('b', 2)
    map.set('c', 3)
    expect(map.peek()?.key).toBe('a')
    map.get('a')
    expect(map.peek()?.key).toBe('b')
    map.set('b', 20)
    expect(map.peek()?.key).toBe('c')
    expect(map.shift()).toEqual(['c', 3])
    expect(map.shift()).toEqual(['a', 1])
    expect(map.shift()).toEqual(['b', 20])
    expect(map.shift()).toBeUndefined()
    map.set('d', 4)
    expect(map.peek()?.key).toBe('d')
    map.clear()
    expect(map.peek()).toBeUndefined()
    map.set('e', 5, 10)
    map.set('f', 6)
    expect(map.prune(10)).toBe(1)
    expect(map.peek()?.key).toBe('f')
  })
})
