import { describe, expect, it } from 'vitest'
import { areaOf, type CpuProfile, shortUrl, summarizeProfile } from './profile.ts'

const core = 'file:///repo/packages/core/src/client.ts'
const jose = 'file:///repo/node_modules/.pnpm/jose@6.2.18/node_modules/jose/dist/webapi/jwt/verify.js'

describe('summarizeProfile', () => {
  it('names the area of a frame from its URL', () => {
    expect(areaOf(core, 'authenticate')).toBe('@coresdk/core')
    expect(areaOf('file:///repo/packages/express/src/index.ts', 'x')).toBe('@coresdk/express')
    expect(areaOf(jose, 'jwtVerify')).toBe('jose')
    expect(areaOf('node:internal/crypto/util', 'x')).toBe('Node.js internals')
    expect(areaOf('', '(garbage collector)')).toBe('GC')
    // The bench loads the workspace packages as built.
    expect(areaOf('file:///home/ci/checkout/packages/core/dist/chunk-7ZAXGCXW.js', 'get')).toBe(
      '@coresdk/core',
    )
    expect(areaOf('file:///home/ci/checkout/packages/redis-store/dist/index.js', 'x')).toBe(
      '@coresdk/redis-store',
    )
  })

  it('names a script without the folders of the machine it ran on', () => {
    expect(shortUrl('file:///home/ci/checkout/packages/core/dist/chunk-7ZAXGCXW.js')).toBe(
      'packages/core/dist/chunk-7ZAXGCXW.js',
    )
    expect(shortUrl(jose)).toBe('jose/dist/webapi/jwt/verify.js')
    expect(shortUrl('file:///home/ci/checkout/apps/bench/src/http/apps.ts')).toBe('src/http/apps.ts')
    expect(shortUrl('file:///tmp/elsewhere/loader.mjs')).toBe('loader.mjs')
    expect(shortUrl('node:_http_server')).toBe('node:_http_server')
  })

  it('sums self time by function and area, and inclusive time up the stack, leaving idle out', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: 0 }, children: [2, 4] },
        { id: 2, callFrame: { functionName: 'authenticate', url: core, lineNumber: 9 }, children: [3] },
        { id: 3, callFrame: { functionName: 'jwtVerify', url: jose, lineNumber: 3 } },
        { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: 0 } },
      ],
      samples: [2, 3, 3, 4],
      timeDeltas: [1000, 2000, 1000, 5000],
      startTime: 0,
      endTime: 9000,
    }
    const summary = summarizeProfile(
      profile,
      ['authenticate', 'jwtVerify in jose', 'jwtVerify in @coresdk/core'],
      15,
      100,
    )
    expect(summary.busyMs).toBe(4)
    expect(summary.areas).toEqual([
      { area: 'jose', selfMs: 3, share: 0.75, usPerOp: 30 },
      { area: '@coresdk/core', selfMs: 1, share: 0.25, usPerOp: 10 },
    ])
    expect(summary.top[0]).toMatchObject({ name: 'jwtVerify', selfMs: 3 })
    expect(summary.inclusive).toEqual([
      { name: 'authenticate', ms: 4, share: 1 },
      { name: 'jwtVerify in jose', ms: 3, share: 0.75 },
      { name: 'jwtVerify in @coresdk/core', ms: 0, share: 0 },
    ])
  })
})
