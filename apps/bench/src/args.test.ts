import { describe, expect, it } from 'vitest'
import { parseArgs } from './args.ts'
import { DEFAULT_BASELINE } from './baseline.ts'

describe('parseArgs', () => {
  it('runs everything, writes the doc and profiles misses by default', () => {
    const args = parseArgs([])
    expect(args).toMatchObject({
      quick: false,
      write: true,
      profile: true,
      parts: ['verify', 'http', 'instructions', 'sessions'],
    })
  })

  it('leaves the callgrind counts out of a quick run unless named', () => {
    expect(parseArgs(['--quick']).parts).toEqual(['verify', 'http', 'sessions'])
    expect(parseArgs(['--quick', '--only=instructions']).parts).toEqual(['instructions'])
  })

  it('keeps a quick run from writing or profiling unless asked', () => {
    expect(parseArgs(['--quick'])).toMatchObject({ quick: true, write: false, profile: false })
    expect(parseArgs(['--', '--quick', '--write', '--profile'])).toMatchObject({
      quick: true,
      write: true,
      profile: true,
    })
  })

  it('narrows the parts and frameworks, and refuses unknown values', () => {
    expect(parseArgs(['--only=http', '--frameworks=hono,fastify'])).toMatchObject({
      parts: ['http'],
      frameworks: ['hono', 'fastify'],
    })
    expect(() => parseArgs(['--only=nope'])).toThrow(/--only/)
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument/)
  })

  it('measures the baseline commit in a full run, not in a quick one unless asked, and refuses option-like refs', () => {
    expect(parseArgs([]).baseline).toBe(DEFAULT_BASELINE.ref)
    expect(parseArgs(['--no-baseline']).baseline).toBeNull()
    expect(parseArgs(['--quick']).baseline).toBeNull()
    expect(parseArgs(['--quick', '--baseline']).baseline).toBe(DEFAULT_BASELINE.ref)
    expect(parseArgs(['--baseline=v0.1.0']).baseline).toBe('v0.1.0')
    expect(() => parseArgs(['--baseline=--upload-pack=x'])).toThrow(/--baseline/)
    expect(() => parseArgs(['--baseline=a;rm'])).toThrow(/--baseline/)
  })
})
