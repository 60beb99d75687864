import { describe, expect, it } from 'vitest'
import { CoreSDKClient } from './client.ts'
import { clientAddress, deviceMeta, formatIp, parseIp, parseUserAgent, trustTest } from './client-device.ts'

const trust = (setting: Parameters<typeof trustTest>[0]) => {
  const test = trustTest(setting)
  if (typeof test === 'string') throw new Error(test)
  return test
}

describe('parseUserAgent', () => {
  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      { browser: 'Safari 17', os: 'iOS', deviceType: 'mobile' },
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1',
      { browser: 'Chrome 126', os: 'iOS', deviceType: 'tablet' },
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      { browser: 'Chrome 126', os: 'Android', deviceType: 'tablet' },
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
      { browser: 'Edge 126', os: 'Windows', deviceType: 'desktop' },
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36',
      { browser: 'Headless Chrome 140', os: 'Linux', deviceType: 'desktop' },
    ],
    ['Googlebot/2.1 (+http://www.google.com/bot.html)', { browser: null, os: null, deviceType: 'bot' }],
    ['', { browser: null, os: null, deviceType: null }],
  ])('%s', (ua, expected) => {
    expect(parseUserAgent(ua)).toEqual(expected)
  })

  it('reads at most 256 characters of a long header', () => {
    expect(parseUserAgent(`${'x'.repeat(300)} Firefox/128.0`).browser).toBeNull()
    expect(deviceMeta({ userAgent: 'y'.repeat(1000) }, null).userAgent).toHaveLength(256)
  })
})

describe('IP addresses', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:0', '2001:db8:0:1::'],
    ['::', '::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('%s is %s', (text, canonical) => {
    expect(formatIp(parseIp(text)!)).toBe(canonical)
  })

  it.each([
    '',
    '01.2.3.4',
    '256.1.1.1',
    '1.2.3',
    'fe80::1%eth0',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'unknown',
    '<b>',
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull()
  })
})

describe('clientAddress', () => {
  it('is the socket peer when no proxy is trusted, whatever the forwarded headers say', () => {
    expect(clientAddress({ remoteAddress: '192.0.2.9', forwardedFor: '203.0.113.1' }, null)).toBe('192.0.2.9')
    expect(clientAddress({ forwardedFor: '203.0.113.1' }, trust(true))).toBeUndefined()
  })

  it('walks X-Forwarded-For right to left while the hop is trusted', () => {
    const hints = { remoteAddress: '10.0.0.2', forwardedFor: ['198.51.100.1, 203.0.113.4', '10.0.0.1'] }
    expect(clientAddress(hints, trust(['10.0.0.0/8']))).toBe('203.0.113.4')
    expect(clientAddress(hints, trust(1))).toBe('10.0.0.1')
    expect(clientAddress(hints, trust(2))).toBe('203.0.113.4')
    expect(clientAddress(hints, trust(true))).toBe('198.51.100.1')
    expect(clientAddress(hints, trust(['192.168.0.0/16']))).toBe('10.0.0.2')
  })

  it('prefers Forwarded, with quoted IPv6 nodes and ports', () => {
    const hints = {
      remoteAddress: '::1',
      forwardedFor: '198.51.100.1',
      forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https',
    }
    expect(clientAddress(hints, trust(['loopback']))).toBe('2001:db8:cafe::17')
    expect(
      clientAddress({ remoteAddress: '::1', forwarded: 'for=unknown' }, trust(['loopback'])),
    ).toBeUndefined()
  })

  it('matches IPv6 ranges and IPv4-mapped peers', () => {
    expect(clientAddress({ remoteAddress: 'fd00::5', forwardedFor: '192.0.2.1' }, trust(['fc00::/7']))).toBe(
      '192.0.2.1',
    )
    expect(
      clientAddress(
        { remoteAddress: '::ffff:172.16.5.4', forwardedFor: '192.0.2.1' },
        trust(['uniquelocal']),
      ),
    ).toBe('192.0.2.1')
  })
})

describe('the trustProxy setting', () => {
  it('names the setting and what it accepts when it is wrong', () => {
    const make = (trustProxy: unknown, env: Record<string, string> = {}) =>
      new CoreSDKClient({
        env,
        jwt: {
          issuer: 'https://i.test/',
          audience: 'a',
          algorithms: ['HS256'],
          secret: 'a-test-secret-of-at-least-thirty-two-bytes',
        },
        trustProxy: trustProxy as never,
      })
    expect(() => make(['10.0.0.0/33'])).toThrow(/trustProxy is invalid; .*prefix length out of range/)
    expect(() => make(['proxy.internal'])).toThrow(/trustProxy is invalid; .*not an IP address/)
    expect(() => make(undefined, { CORESDK_TRUST_PROXY: '10.0.0.1,nope' })).toThrow(
      /CORESDK_TRUST_PROXY is invalid/,
    )
    expect(() => make(-1)).toThrow(/trustProxy is invalid; .*hop count/)
    expect(make(undefined, { CORESDK_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).config.trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
    ])
    expect(make(undefined, { CORESDK_TRUST_PROXY: '2' }).config.trustProxy).toBe(2)
    expect(make(undefined, { CORESDK_TRUST_PROXY: 'false' }).config.trustProxy).toBe(false)
  })
})
