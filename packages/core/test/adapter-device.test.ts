import { describe, expect, it } from 'vitest'
import { createAdapterKit } from '../src/adapter.ts'
import { hsClient, hsToken } from './helpers.ts'

describe("the adapter kit's device hints", () => {
  const SAFARI =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'

  /** The session a first bearer request made through the kit, with these headers and this peer. */
  type Build = (headers: Record<string, string>) => readonly string[] | Headers
  async function sessionOf(trustProxy: false | string[], build: Build, headers: Record<string, string>) {
    const sdk = hsClient({ trustProxy })
    try {
      const kit = createAdapterKit(sdk)
      const token = await hsToken({ sub: 'usr_device', jti: crypto.randomUUID() })
      const all = build({ ...headers, Authorization: `Bearer ${token}` })
      const result = await kit.handle({ method: 'GET', url: '/api', headers: all, remoteAddress: '::1' })
      if (!result.next) throw new Error(`refused: ${result.problem.status}`)
      return result.auth.session!
    } finally {
      await sdk.close()
    }
  }

  it.each([
    ['raw headers', (h) => Object.entries(h).flat()],
    ['Web Headers', (h) => new Headers(h)],
  ] satisfies Array<[string, Build]>)(
    'reads the forwarded headers of %s only from a trusted peer',
    async (_kind, build) => {
      const headers = { 'User-Agent': SAFARI, 'X-Forwarded-For': '198.51.100.4', Forwarded: 'for=192.0.2.9' }
      const direct = await sessionOf(false, build, headers)
      expect({ ip: direct.ip, browser: direct.browser, os: direct.os }).toEqual({
        ip: '::1',
        browser: 'Safari 17',
        os: 'macOS',
      })
      expect((await sessionOf(['loopback'], build, headers)).ip).toBe('192.0.2.9')
      const { Forwarded: _, ...xffOnly } = headers
      expect((await sessionOf(['loopback'], build, xffOnly)).ip).toBe('198.51.100.4')
    },
  )
})
