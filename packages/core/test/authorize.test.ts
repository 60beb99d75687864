import { afterEach, describe, expect, it } from 'vitest'
import { CoreSDKClient } from '../src/client.ts'
import { craftToken, createTestKeys, mintToken, startJwksServer, TestIssuer } from './kit.ts'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

function client(config: ConstructorParameters<typeof CoreSDKClient>[0]): CoreSDKClient {
  const sdk = new CoreSDKClient({ env: {}, ...config })
  cleanup.push(() => sdk.close())
  return sdk
}

describe('sdk.auth().authorize({ token })', () => {
  it('allows a valid token and returns its verified claims', async () => {
    const issuer = await TestIssuer.create({ alg: 'RS256' })
    const sdk = client({ tenantId: 'acme', serviceName: 'my-api', jwt: issuer.jwtOptions() })
    const decision = await sdk.auth().authorize({ token: await issuer.mint({ email: 'a@example.com' }) })
    expect(decision).toMatchObject({ allowed: true, reason: null, problem: null })
    expect(decision.claims).toMatchObject({ sub: 'user-1', email: 'a@example.com', iss: issuer.issuer })
  })

  it('answers one 401 body for every kind of bad token, and says so only when it expired', async () => {
    const issuer = await TestIssuer.create({ alg: 'RS256' })
    const stranger = await createTestKeys('RS256')
    const sdk = client({ serviceName: 'my-api', jwt: issuer.jwtOptions() })
    const secretClaim = 'very-private@example.com'
    const bad = {
      malformed: 'not-a-token',
      unsupported_algorithm: craftToken({
        header: { alg: 'none' },
        payload: { sub: 'u', email: secretClaim },
      }),
      invalid_signature: await mintToken({
        keys: stranger,
        kid: issuer.keys.kid,
        claims: { sub: 'u', email: secretClaim },
      }),
      unknown_key: await mintToken({
        keys: stranger,
        claims: { iss: issuer.issuer, aud: issuer.audience, sub: 'u', email: secretClaim },
      }),
      invalid_claims: await issuer.mint({ aud: 'other', email: secretClaim }),
      not_yet_valid: await issuer.mint({ email: secretClaim }, { notBefore: 600 }),
    }
    const bodies = new Set<string>()
    for (const [reason, token] of Object.entries(bad)) {
      const decision = await sdk.auth().authorize({ token })
      expect(decision.allowed).toBe(false)
      expect(decision.reason).toBe(reason)
      expect(decision.problem?.status).toBe(401)
      expect(decision.problem?.headers['www-authenticate']).toContain('error="invalid_token"')
      const body = JSON.stringify(decision.problem?.body)
      expect(body).not.toContain(token)
      expect(body).not.toContain(secretClaim)
      bodies.add(body)
    }
    expect(bodies.size).toBe(1)
    const expired = await sdk.auth().authorize({ token: await issuer.mint({}, { expiresIn: -60 }) })
    expect(expired).toMatchObject({
      allowed: false,
      reason: 'expired',
      problem: { status: 401, body: { code: 'token_expired' } },
    })
  })

  it('answers 503 with Retry-After when the keys cannot be fetched, never 401', async () => {
    const keys = await createTestKeys('ES256')
    const jwks = await startJwksServer({ keys: [keys] })
    cleanup.push(() => jwks.close())
    await jwks.setDown('error')
    const sdk = client({
      jwt: { issuer: 'https://i/', audience: 'a', algorithms: ['ES256'], jwksUri: jwks.jwksUrl },
    })
    const token = await mintToken({ keys, claims: { iss: 'https://i/', aud: 'a', sub: 'u' } })
    const decision = await sdk.auth().authorize({ token })
    expect(decision).toMatchObject({
      allowed: false,
      reason: 'key_source_unavailable',
      problem: { status: 503 },
    })
    expect(decision.problem?.headers['retry-after']).toBeDefined()
    await jwks.setDown(false)
  })

  it('refuses a missing token as missing_token', async () => {
    const issuer = await TestIssuer.create({ alg: 'HS256' })
    const sdk = client({ jwt: issuer.jwtOptions() })
    for (const token of [undefined, null, '']) {
      expect(await sdk.auth().authorize({ token })).toMatchObject({ allowed: false, reason: 'missing_token' })
    }
  })
})
