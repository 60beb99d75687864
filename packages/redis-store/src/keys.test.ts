import { describe, expect, it } from 'vitest'
import { encodeKeyPart, KeyLayout } from './keys.ts'

const AWKWARD = [
  '',
  'usr_1',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uFFFD',
  '\uD800\uDC00',
  '\uDC00\uD800',
  'a\u0000b',
  'ab',
  '{u:x}',
  '}{',
  'a:b::c',
  '%3A',
  '%uD800',
  '%25uD800',
  'é漢字',
  'x'.repeat(10_240),
]

describe('encodeKeyPart', () => {
  it('never throws, and leaves no colon, brace or non-ASCII character', () => {
    for (const value of AWKWARD) {
      const encoded = encodeKeyPart(value)
      expect(encoded, JSON.stringify(value.slice(0, 20))).toMatch(/^[\x21-\x7e]*$/)
      expect(encoded).not.toMatch(/[:{}]/)
    }
  })

  it('gives every string a name of its own', () => {
    const names = AWKWARD.map(encodeKeyPart)
    expect(new Set(names).size).toBe(AWKWARD.length)
  })

  it('keeps the encodeURIComponent form for well-formed strings, so existing keys keep their names', () => {
    const wellFormed = (value: string) =>
      !/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))
    for (const value of AWKWARD.filter(wellFormed)) {
      expect(encodeKeyPart(value)).toBe(encodeURIComponent(value))
    }
  })
})

describe('KeyLayout', () => {
  it("puts all of one user's keys behind one hash tag that no user id can close early", () => {
    const keys = new KeyLayout('coresdk')
    const userId = '}{u:other}'
    const tags = [
      keys.userIndex('t', userId),
      keys.userMarker('t', userId),
      keys.session('t', userId, 's'),
    ].map((key) => key.slice(key.indexOf('{') + 1, key.indexOf('}')))
    expect(new Set(tags).size).toBe(1)
    expect(tags[0]).toBe(`u:${encodeKeyPart(userId)}`)
  })
})
