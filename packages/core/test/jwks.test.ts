import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type JwtOptions, resolveConfig } from '../src/config.ts'
import { TokenVerifier, type VerifyResult } from '../src/verify-token.ts'
import { createTestKeys, type JwksServer, mintToken, startJwksServer, type TestKeys } from './kit.ts'

const ISS = 'https://issuer.test/'
const AUD = 'test-api'
const cleanup: Array<() => unknown> = []

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function server(keys: TestKeys[]): Promise<JwksServer> {
  const started = await startJwksServer({ keys })
  cleanup.push(() => started.close())
  return started
}

function verifier(jwksUri: string, jwt: Partial<JwtOptions> = {}): TokenVerifier {
  const config = resolveConfig({
    tenantId: 'acme',
    jwt: { issuer: ISS, audience: AUD, algorithms: ['RS256', 'ES256'], jwksUri, ...jwt },
    env: {},
  })
  const created = new TokenVerifier(config.jwt, config.tenantId)
  cleanup.push(() => created.close())
  return created
}

function mint(
  keys: TestKeys,
  extra: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return mintToken({
    keys,
    claims: { iss: ISS, aud: AUD, sub: 'user-1', jti: crypto.randomUUID(), ...extra },
    header,
  })
}

function reason(result: VerifyResult): string {
  return result.ok ? 'ok' : result.reason
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a remote JWK Set', () => {
  let a: TestKeys
  let b: TestKeys
  let ec: TestKeys
  beforeAll(async () => {
    ;[a, b, ec] = await Promise.all([
      createTestKeys('RS256'),
      createTestKeys('RS256'),
      createTestKeys('ES256'),
    ])
  })

  it('is fetched once on first use and then served from cache', async () => {
    const jwks = await server([a, ec])
    const v = verifier(jwks.jwksUrl)
    expect(jwks.requestCount).toBe(0)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => mint(i % 2 ? a : ec).then((t) => v.verify(t))),
    )
    expect(results.map(reason)).toEqual(Array(20).fill('ok'))
    expect(jwks.requestCount).toBe(1)
  })

  it('refetches exactly once for an unknown kid under 50 concurrent requests, then refuses it', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCooldown: 60_000 })
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    expect(jwks.requestCount).toBe(1)
    jwks.setDelay(100) // every request of the burst arrives while the refetch is in flight
    const tokens = await Promise.all(Array.from({ length: 50 }, () => mint(b)))
    const results = await Promise.all(tokens.map((t) => v.verify(t)))
    expect(results.map(reason)).toEqual(Array(50).fill('unknown_key'))
    expect(jwks.requestCount).toBe(2)
    // Within the cooldown, another burst causes no request at all.
    const again = await Promise.all(tokens.map((t) => v.verify(t)))
    expect(again.map(reason)).toEqual(Array(50).fill('unknown_key'))
    expect(jwks.requestCount).toBe(2)
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
  })

  it('picks up a rotated key on its first token, and drops the retired one', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCooldown: 0 })
    const oldToken = await mint(a)
    expect(reason(await v.verify(oldToken))).toBe('ok')
    jwks.rotate([b])
    expect(reason(await v.verify(await mint(b)))).toBe('ok')
    expect(jwks.requestCount).toBe(2)
    // The old key is gone from the set now; a token it signed that was never verified is refused.
    expect(reason(await v.verify(await mint(a)))).toBe('unknown_key')
    // The token verified before rotation stays cached until its exp.
    expect(reason(await v.verify(oldToken))).toBe('ok')
  })

  it('respects the cooldown between refetches', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCooldown: 300 })
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    expect(reason(await v.verify(await mint(b)))).toBe('unknown_key')
    expect(jwks.requestCount).toBe(2)
    jwks.addKey(b)
    expect(reason(await v.verify(await mint(b)))).toBe('unknown_key')
    expect(jwks.requestCount).toBe(2)
    await sleep(350)
    expect(reason(await v.verify(await mint(b)))).toBe('ok')
    expect(jwks.requestCount).toBe(3)
  })

  for (const mode of ['error', 'hang', 'refuse'] as const) {
    it(`keeps verifying with cached keys when the JWKS is down (${mode}); an unknown kid gets key_source_unavailable`, async () => {
      const jwks = await server([a])
      const v = verifier(jwks.jwksUrl, { jwksTimeout: 200, jwksCooldown: 60_000 })
      expect(reason(await v.verify(await mint(a)))).toBe('ok')
      await jwks.setDown(mode)
      expect(reason(await v.verify(await mint(a)))).toBe('ok')
      expect(reason(await v.verify(await mint(b)))).toBe('key_source_unavailable')
      // Within the cooldown the outage is still reported, without another request.
      const count = jwks.requestCount
      expect(reason(await v.verify(await mint(b)))).toBe('key_source_unavailable')
      expect(jwks.requestCount).toBe(count)
      expect(reason(await v.verify(await mint(a)))).toBe('ok')
      await jwks.setDown(false)
    })
  }

  it('answers key_source_unavailable when the first fetch fails, and recovers when the JWKS is back', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCooldown: 100 })
    await jwks.setDown('error')
    expect(reason(await v.verify(await mint(a)))).toBe('key_source_unavailable')
    await jwks.setDown(false)
    await sleep(150)
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
  })

  it('gives up a fetch at jwksTimeout rather than waiting for a slow server', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksTimeout: 100 })
    jwks.setDelay(1500)
    // Had the verifier waited for the answer, the key would have verified.
    expect(reason(await v.verify(await mint(a)))).toBe('key_source_unavailable')
    expect(jwks.requestCount).toBe(1)
  })

  it('refetches in the background after jwksCacheMaxAge, while the cached keys keep serving', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCacheMaxAge: 1000, jwksCooldown: 0 })
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    await sleep(1050)
    await jwks.setDown('hang')
    // The answer does not wait for the background refetch, which never gets an answer.
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    await vi.waitFor(() => expect(jwks.requestCount).toBe(2))
    // One refetch in flight at a time: more requests do not start another.
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    await sleep(50)
    expect(jwks.requestCount).toBe(2)
  })

  it('serves stale keys when the background refetch fails', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCacheMaxAge: 1000, jwksCooldown: 0 })
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    await sleep(1050)
    await jwks.setDown('error')
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    await sleep(50)
    expect(reason(await v.verify(await mint(a)))).toBe('ok')
    expect(jwks.requestCount).toBeGreaterThanOrEqual(2)
  })

  it('never fetches or trusts keys named by the jku, jwk, x5u or x5c headers', async () => {
    const attackerKeys = await createTestKeys('RS256')
    const attacker = await server([attackerKeys])
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl, { jwksCooldown: 0 })
    const stat = (() => {
      const config = resolveConfig({
        jwt: { issuer: ISS, audience: AUD, algorithms: ['RS256'], publicKeys: [a.publicJwk!] },
        env: {},
      })
      const created = new TokenVerifier(config.jwt, 'default')
      cleanup.push(() => created.close())
      return created
    })()
    const hostile = {
      jku: attacker.jwksUrl,
      x5u: `${attacker.url}/cert.pem`,
      jwk: attackerKeys.publicJwk,
      x5c: ['MIIBszCCAVmgAwIBAgIUQ'],
    }
    // Signed by the attacker under its own kid, and under the legitimate kid.
    const ownKid = await mint(attackerKeys, {}, hostile)
    const stolenKid = await mint(attackerKeys, {}, { ...hostile, kid: a.kid })
    for (const target of [v, stat]) {
      expect(reason(await target.verify(ownKid))).toMatch(/^(unknown_key|invalid_signature)$/)
      expect(reason(await target.verify(stolenKid))).toBe('invalid_signature')
    }
    expect(attacker.requestCount).toBe(0)
    expect(jwks.requests.every((path) => path === '/.well-known/jwks.json')).toBe(true)
    // The legitimate key still verifies tokens carrying those headers: they are ignored, not fatal.
    expect(
      reason(await v.verify(await mint(a, {}, { jku: attacker.jwksUrl, x5u: `${attacker.url}/x` }))),
    ).toBe('ok')
    expect(attacker.requestCount).toBe(0)
  })

  it('sends no request for a token refused before key selection (size, shape, algorithm)', async () => {
    const jwks = await server([a])
    const v = verifier(jwks.jwksUrl)
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url')
    expect(reason(await v.verify(`${header}.${'A'.repeat(16 * 1024)}.sig`))).toBe('token_too_large')
    expect(reason(await v.verify('a.b'))).toBe('malformed')
    const hs = await mintToken({ alg: 'HS256', secret: 'x'.repeat(32), kid: 'k', claims: { sub: 'u' } })
    expect(reason(await v.verify(hs))).toBe('unsupported_algorithm')
    expect(jwks.requestCount).toBe(0)
  })

  it('ignores JWKS entries that cannot verify the token: wrong use, wrong alg, private members stripped', async () => {
    const jwks = await server([])
    jwks.rotate([
      { ...a.publicJwk!, use: 'enc' },
      { ...b.publicJwk!, alg: 'PS256' },
    ])
    const v = verifier(jwks.jwksUrl, { jwksCooldown: 60_000 })
    expect(reason(await v.verify(await mint(a)))).toBe('unknown_key')
    expect(reason(await v.verify(await mint(b)))).toBe('unknown_key')
  })
})
