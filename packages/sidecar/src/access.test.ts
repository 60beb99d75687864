import { describe, expect, it } from 'vitest'
import { isLoopbackHost, KeyRing, parseTenants } from './access.ts'

const A = 'a'.repeat(32)
const B = 'b'.repeat(40)

describe('isLoopbackHost', () => {
  it('accepts loopback names and addresses only', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      'api.localhost',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true)
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.2',
      'example.com',
      'localhost.example.com',
      '128.0.0.1',
      '',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false)
    }
  })
})

describe('parseTenants', () => {
  it('reads tenant:secret pairs and a JSON object alike', () => {
    const expected = [
      { tenantId: 'acme', secret: A },
      { tenantId: 'globex', secret: `${B}:x` },
    ]
    expect(parseTenants(`acme:${A}, globex:${B}:x`)).toEqual(expected)
    expect(parseTenants(JSON.stringify({ acme: A, globex: `${B}:x` }))).toEqual(expected)
  })

  it('refuses a short secret or a bad tenant id, naming the setting and never echoing the secret', () => {
    expect(() => parseTenants('acme:short-one')).toThrow(
      /CORESDK_SIDECAR_TENANTS \(tenant "acme"\).*at least 32 bytes/,
    )
    expect(() => parseTenants('acme:short-one')).not.toThrow(/short-one/)
    expect(() => parseTenants(`bad tenant:${A}`)).toThrow(/CORESDK_SIDECAR_TENANTS/)
    expect(() => parseTenants('{"acme": 1}', 'CORESDK_SIDECAR_TENANTS_FILE')).toThrow(
      /CORESDK_SIDECAR_TENANTS_FILE/,
    )
    expect(() => parseTenants('{nope')).toThrow(/JSON object/)
  })
})

describe('KeyRing', () => {
  it('maps a presented secret to its tenant, and anything else to null', () => {
    const ring = new KeyRing([
      { tenantId: 'acme', secret: A },
      { tenantId: 'globex', secret: B },
    ])
    expect(ring.enabled).toBe(true)
    expect(ring.match(A)).toBe('acme')
    expect(ring.match(B)).toBe('globex')
    expect(ring.match(`${A}x`)).toBeNull()
    expect(ring.match(A.slice(1))).toBeNull()
    expect(ring.match('')).toBeNull()
    expect(new KeyRing([]).enabled).toBe(false)
  })

  it('refuses two tenants sharing a secret, or one tenant twice', () => {
    expect(
      () =>
        new KeyRing([
          { tenantId: 'acme', secret: A },
          { tenantId: 'globex', secret: A },
        ]),
    ).toThrow(/own secret/)
    expect(
      () =>
        new KeyRing([
          { tenantId: 'acme', secret: A },
          { tenantId: 'acme', secret: B },
        ]),
    ).toThrow(/twice/)
  })
})
