import { describe, expect, it } from 'vitest'
import { createMemoryReplayCache } from './backchannel-logout.ts'

describe('memory replay cache', () => {
  it('accepts a jti once until it expires, and again once forgotten', async () => {
    const cache = createMemoryReplayCache()
    const later = Date.now() + 60_000
    expect(await cache.add('iss jti-1', later)).toBe(true)
    expect(await cache.add('iss jti-1', later)).toBe(false)
    await cache.delete('iss jti-1')
    expect(await cache.add('iss jti-1', later)).toBe(true)
    expect(await cache.add('iss jti-2', Date.now() - 1)).toBe(true)
    expect(await cache.add('iss jti-2', later)).toBe(true)
  })

  it('stays within its bound', async () => {
    const cache = createMemoryReplayCache(2)
    const later = Date.now() + 60_000
    for (const jti of ['a', 'b', 'c']) expect(await cache.add(jti, later)).toBe(true)
    // The oldest entry made room for the newest.
    expect(await cache.add('c', later)).toBe(false)
    expect(await cache.add('a', later)).toBe(true)
  })
})
