import { describe, expect, it } from 'vitest'
import { KeyEntry } from './key-source.ts'

const rsa = { kty: 'RSA', n: 'AQAB', e: 'AQAB' }
const p256 = { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }
const ed = { kty: 'OKP', crv: 'Ed25519', x: 'AA' }

describe('KeyEntry.fits', () => {
  it('matches the key type and curve to the algorithm', () => {
    expect(new KeyEntry(rsa).fits('RS256')).toBe(true)
    expect(new KeyEntry(rsa).fits('PS512')).toBe(true)
    expect(new KeyEntry(rsa).fits('ES256')).toBe(false)
    expect(new KeyEntry(p256).fits('ES256')).toBe(true)
    expect(new KeyEntry(p256).fits('ES384')).toBe(false)
    expect(new KeyEntry(ed).fits('EdDSA')).toBe(true)
    expect(new KeyEntry(ed).fits('Ed25519')).toBe(true)
    expect(new KeyEntry(ed).fits('ES256')).toBe(false)
  })

  it('honours the alg, use and key_ops members of the JWK', () => {
    expect(new KeyEntry({ ...rsa, alg: 'RS256' }).fits('RS256')).toBe(true)
    expect(new KeyEntry({ ...rsa, alg: 'RS256' }).fits('RS384')).toBe(false)
    expect(new KeyEntry({ ...ed, alg: 'Ed25519' }).fits('EdDSA')).toBe(true)
    expect(new KeyEntry({ ...rsa, use: 'enc' }).fits('RS256')).toBe(false)
    expect(new KeyEntry({ ...rsa, key_ops: ['encrypt'] }).fits('RS256')).toBe(false)
    expect(new KeyEntry({ ...rsa, key_ops: ['verify'] }).fits('RS256')).toBe(true)
  })

  it('never fits an HMAC algorithm with a public key', () => {
    expect(new KeyEntry(rsa).fits('HS256')).toBe(false)
    expect(new KeyEntry({ kty: 'oct', k: 'c2VjcmV0' }).fits('HS256')).toBe(false)
  })

  it('imports a bad key as null instead of throwing', async () => {
    await expect(
      new KeyEntry('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----').key('RS256'),
    ).resolves.toBeNull()
    await expect(new KeyEntry({ kty: 'RSA', e: 'AQAB' }).key('RS256')).resolves.toBeNull()
    await expect(new KeyEntry(p256).key('ES256')).resolves.toBeNull()
  })
})
