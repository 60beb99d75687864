import { describe, expect, it } from 'vitest'
import { Lookup } from './lookup.ts'

describe('Lookup', () => {
  const lookup = new Lookup('public.coresdk_')

  it('gives every (tenant, value) pair its own 32-byte key, whatever the characters', () => {
    const pairs: Array<[string, string]> = [
      ['a', 'bc'],
      ['ab', 'c'],
      ['a\u0000', 'b'],
      ['a', '\u0000b'],
      ['t', '\uD800'],
      ['t', '\uDBFF'],
      ['t', '\uFFFD'],
      ['t', 'x'.repeat(10_000)],
    ]
    const keys = pairs.map(([tenant, value]) => lookup.hash(tenant, value).toString('hex'))
    expect(new Set(keys).size).toBe(pairs.length)
    expect(lookup.hash('t', 'x'.repeat(10_000))).toHaveLength(32)
    expect(lookup.hash('a', 'bc').equals(lookup.hash('a', 'bc'))).toBe(true)
  })

  it('puts two stores of one database in different advisory lock spaces', () => {
    const user = lookup.hash('t', 'u')
    expect(new Lookup('other.coresdk_').userLock(user)).not.toBe(lookup.userLock(user))
    expect(BigInt(lookup.userLock(user))).toBeGreaterThanOrEqual(-(2n ** 63n))
  })
})
