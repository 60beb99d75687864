import { afterEach, describe, expect, it, vi } from 'vitest'
import { resolveConfig } from '../src/config.ts'
import { TokenVerifier } from '../src/verify-token.ts'
import { TestIssuer } from './kit.ts'

const open: TokenVerifier[] = []
afterEach(() => {
  vi.useRealTimers()
  for (const v of open.splice(0)) v.close()
})

async function setup(jwt: { clockTolerance?: number; cacheSize?: number } = {}) {
  const issuer = await TestIssuer.create({ alg: 'ES256' })
  const config = resolveConfig({ jwt: { ...issuer.jwtOptions(), ...jwt }, env: {} })
  const verifier = new TokenVerifier(config.jwt, config.tenantId)
  open.push(verifier)
  return { issuer, verifier }
}

describe('the positive verification cache', () => {
  it('answers a repeated token from the cache (the same result object)', async () => {
    const { issuer, verifier } = await setup()
    const token = await issuer.mint()
    const first = await verifier.verify(token)
    const second = await verifier.verify(token)
    expect(first.ok).toBe(true)
    expect(second).toBe(first)
    // A different spelling of the token is a different key: the whole string is the cache key.
    const third = await verifier.verify(`${token}`.slice(0))
    expect(third).toBe(first)
  })

  it('never outlives the token exp, even within the clock tolerance', async () => {
    const { issuer, verifier } = await setup({ clockTolerance: 30 })
    const t = 1_900_000_000
    const token = await issuer.mint({}, { now: t, expiresIn: 60 })
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t * 1000)
    const first = await verifier.verify(token)
    expect(first.ok).toBe(true)
    vi.setSystemTime((t + 59) * 1000)
    expect(await verifier.verify(token)).toBe(first)
    // At exp the entry is gone: jose verifies again (still accepted within the tolerance), a fresh result.
    vi.setSystemTime((t + 60) * 1000)
    const after = await verifier.verify(token)
    expect(after.ok).toBe(true)
    expect(after).not.toBe(first)
    // A re-verification past exp is not cached again.
    vi.setSystemTime((t + 61) * 1000)
    expect(await verifier.verify(token)).not.toBe(after)
    vi.setSystemTime((t + 90) * 1000)
    expect(await verifier.verify(token)).toEqual({ ok: false, reason: 'expired' })
  })

  it('is off with cacheSize 0', async () => {
    const { issuer, verifier } = await setup({ cacheSize: 0 })
    const token = await issuer.mint()
    const first = await verifier.verify(token)
    expect(first.ok).toBe(true)
    expect(await verifier.verify(token)).not.toBe(first)
  })

  it('keeps refused tokens out of the cache', async () => {
    const { issuer, verifier } = await setup()
    const t = Math.floor(Date.now() / 1000)
    const notYet = await issuer.mint({}, { now: t, notBefore: 120 })
    expect(await verifier.verify(notYet)).toEqual({ ok: false, reason: 'not_yet_valid' })
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime((t + 130) * 1000)
    expect((await verifier.verify(notYet)).ok).toBe(true)
  })
})
