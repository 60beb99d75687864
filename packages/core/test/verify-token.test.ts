import { createHash } from 'node:crypto'
import { CompactEncrypt, CompactSign, generateKeyPair } from 'jose'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type JwtOptions, resolveConfig } from '../src/config.ts'
import { sessionKey, TokenVerifier, type VerifyResult } from '../src/verify-token.ts'
import { craftToken, createTestKeys, mintToken, type TestAlgorithm, TestIssuer } from './kit.ts'

const ISS = 'https://issuer.test/'
const AUD = 'test-api'
const open: TokenVerifier[] = []

function verifier(jwt: JwtOptions, tenantId = 'acme'): TokenVerifier {
  const config = resolveConfig({ tenantId, jwt, env: {} })
  const created = new TokenVerifier(config.jwt, config.tenantId)
  open.push(created)
  return created
}

afterEach(() => {
  vi.useRealTimers()
  for (const v of open.splice(0)) v.close()
})

function reason(result: VerifyResult): string {
  return result.ok ? 'ok' : result.reason
}

describe('valid tokens', () => {
  for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as TestAlgorithm[]) {
    it(`accepts a valid ${alg} token and reports its claims, key and times`, async () => {
      const issuer = await TestIssuer.create({ alg })
      const v = verifier(issuer.jwtOptions())
      const token = await issuer.mint({ jti: 'jti-1', email: 'a@example.com' })
      const result = await v.verify(token)
      expect(result.ok).toBe(true)
      if (!result.ok) return
      expect(result.token.claims.sub).toBe('user-1')
      expect(result.token.claims.email).toBe('a@example.com')
      expect(result.token.key).toBe('jti:jti-1')
      expect(result.token.expiresAt).toBe((result.token.claims.exp as number) * 1000)
      // Issue times are taken as early as the clock tolerance (5 s by default) allows: the issuer may run ahead.
      expect(result.token.issuedAt).toBe(((result.token.claims.iat as number) - 5) * 1000)
    })
  }

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as TestAlgorithm[]) {
    it(`accepts a ${alg} token verified with an SPKI PEM public key`, async () => {
      const keys = await createTestKeys(alg)
      const v = verifier({ issuer: ISS, audience: AUD, algorithms: [alg], publicKeys: [keys.publicPem!] })
      const token = await mintToken({ keys, claims: { iss: ISS, aud: AUD, sub: 'u' } })
      expect(reason(await v.verify(token))).toBe('ok')
    })
  }

  it('derives the session key from sid, else jti, else the SHA-256 of the whole token', async () => {
    const issuer = await TestIssuer.create({ alg: 'HS256' })
    const v = verifier(issuer.jwtOptions())
    const withSid = await v.verify(await issuer.mint({ sid: 's-1', jti: 'j-1' }))
    expect(withSid.ok && withSid.token.key).toBe('sid:s-1')
    const withJti = await v.verify(await issuer.mint({ jti: 'j-2' }))
    expect(withJti.ok && withJti.token.key).toBe('jti:j-2')
    const bare = await issuer.mint({ nonce: 'x' })
    const withNeither = await v.verify(bare)
    const digest = createHash('sha256').update(bare).digest('base64url')
    // Hashed only when sessions need it, then kept with the cached result.
    expect(withNeither.ok && withNeither.token.key).toBe(null)
    expect(withNeither.ok && (await sessionKey(bare, withNeither.token))).toBe(`tok:${digest}`)
    expect(withNeither.ok && withNeither.token.key).toBe(`tok:${digest}`)
  })

  it('takes issuedAt from iat, else nbf, less the clock tolerance; 0 when the token says neither', async () => {
    const issuer = await TestIssuer.create({ alg: 'HS256' })
    const v = verifier(issuer.jwtOptions())
    const now = Math.floor(Date.now() / 1000)
    const fromNbf = await v.verify(await issuer.mint({}, { issuedAt: false, notBefore: -10, now }))
    expect(fromNbf.ok && fromNbf.token.issuedAt).toBe((now - 10 - 5) * 1000)
    const neither = await v.verify(await issuer.mint({}, { issuedAt: false }))
    expect(neither.ok && neither.token.issuedAt).toBe(0)
  })

  it('picks a configured key by kid, falls back to keys without a kid, and tries each of them', async () => {
    const [a, b, c] = await Promise.all([
      createTestKeys('RS256'),
      createTestKeys('RS256'),
      createTestKeys('RS256'),
    ])
    const claims = { iss: ISS, aud: AUD, sub: 'u' }
    const byKid = verifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      publicKeys: [a.publicJwk!, b.publicJwk!],
    })
    expect(reason(await byKid.verify(await mintToken({ keys: b, claims })))).toBe('ok')
    expect(reason(await byKid.verify(await mintToken({ keys: c, claims })))).toBe('unknown_key')
    // Two PEMs (no kid): a token naming any kid, or none, is tried against each.
    const pems = verifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      publicKeys: [a.publicPem!, b.publicPem!],
    })
    expect(reason(await pems.verify(await mintToken({ keys: b, claims })))).toBe('ok')
    expect(reason(await pems.verify(await mintToken({ keys: b, claims, kid: null })))).toBe('ok')
    expect(reason(await pems.verify(await mintToken({ keys: c, claims, kid: null })))).toBe(
      'invalid_signature',
    )
  })
})

describe('algorithms', () => {
  let rsa: Awaited<ReturnType<typeof createTestKeys>>
  const claims = () => ({ iss: ISS, aud: AUD, sub: 'u', exp: Math.floor(Date.now() / 1000) + 300 })
  beforeAll(async () => {
    rsa = await createTestKeys('RS256')
  })

  it('refuses alg "none" in every letter case, with or without a signature, whatever the key type', async () => {
    const rs = verifier({ issuer: ISS, audience: AUD, algorithms: ['RS256'], publicKeys: [rsa.publicJwk!] })
    const hs = verifier({ issuer: ISS, audience: AUD, algorithms: ['HS256'], secret: 'x'.repeat(32) })
    for (const alg of ['none', 'None', 'NONE', 'nOnE', 'NoNe']) {
      for (const signature of ['', 'c2lnbmF0dXJl']) {
        const token = craftToken({ header: { alg, typ: 'JWT' }, payload: claims(), signature })
        expect(reason(await rs.verify(token))).toBe('unsupported_algorithm')
        expect(reason(await hs.verify(token))).toBe('unsupported_algorithm')
      }
    }
  })

  it('refuses HS256 signed with the RSA public key as the secret (algorithm confusion)', async () => {
    const forged = await mintToken({ alg: 'HS256', secret: rsa.publicPem!, kid: rsa.kid, claims: claims() })
    const byPem = verifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      publicKeys: [rsa.publicPem!],
    })
    const byJwk = verifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      publicKeys: [rsa.publicJwk!],
    })
    expect(reason(await byPem.verify(forged))).toBe('unsupported_algorithm')
    expect(reason(await byJwk.verify(forged))).toBe('unsupported_algorithm')
    // The forgery is a real HMAC signature: a verifier that took the PEM as an HS256 secret would accept it.
    const naive = verifier({ issuer: ISS, audience: AUD, algorithms: ['HS256'], secret: rsa.publicPem! })
    expect(reason(await naive.verify(forged))).toBe('ok')
  })

  it('refuses an algorithm outside the allowlist even when a key for it is configured', async () => {
    const ec = await createTestKeys('ES256')
    const v = verifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      publicKeys: [rsa.publicJwk!, ec.publicJwk!],
    })
    expect(reason(await v.verify(await mintToken({ keys: ec, claims: claims() })))).toBe(
      'unsupported_algorithm',
    )
    const { privateKey } = await generateKeyPair('RS384')
    expect(reason(await v.verify(await mintToken({ alg: 'RS384', key: privateKey, claims: claims() })))).toBe(
      'unsupported_algorithm',
    )
    expect(reason(await v.verify(await mintToken({ keys: rsa, claims: claims() })))).toBe('ok')
  })

  it('refuses a token whose signature does not match', async () => {
    const other = await createTestKeys('RS256', { kid: rsa.kid })
    const v = verifier({ issuer: ISS, audience: AUD, algorithms: ['RS256'], publicKeys: [rsa.publicJwk!] })
    expect(reason(await v.verify(await mintToken({ keys: other, claims: claims() })))).toBe(
      'invalid_signature',
    )
    const good = await mintToken({ keys: rsa, claims: claims() })
    const [h, , s] = good.split('.')
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims(), sub: 'admin' })).toString('base64url')}.${s}`
    expect(reason(await v.verify(tampered))).toBe('invalid_signature')
  })
})

describe('one allowed algorithm and one key, already imported (the key goes to jose as it is)', () => {
  const claims = () => ({ iss: ISS, aud: AUD, sub: 'u', exp: Math.floor(Date.now() / 1000) + 300 })

  it('refuses, after a first good token, everything it refused before: none, confusion, other algorithms, kids', async () => {
    const rsa = await createTestKeys('RS256')
    const other = await createTestKeys('RS256')
    const secret = 'y'.repeat(32)
    const byPem = verifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      publicKeys: [rsa.publicPem!],
    })
    const hs = verifier({ issuer: ISS, audience: AUD, algorithms: ['HS256'], secret, cacheSize: 0 })
    // The first good token imports the key; from then on each token meets the imported key directly.
    expect(reason(await byPem.verify(await mintToken({ keys: rsa, claims: claims() })))).toBe('ok')
    const hsToken = await mintToken({ alg: 'HS256', secret, claims: claims() })
    expect(reason(await hs.verify(hsToken))).toBe('ok')
    expect(reason(await hs.verify(hsToken))).toBe('ok')

    const none = craftToken({ header: { alg: 'none', typ: 'JWT' }, payload: claims(), signature: '' })
    expect(reason(await byPem.verify(none))).toBe('unsupported_algorithm')
    expect(reason(await hs.verify(none))).toBe('unsupported_algorithm')
    const forged = await mintToken({ alg: 'HS256', secret: rsa.publicPem!, claims: claims() })
    expect(reason(await byPem.verify(forged))).toBe('unsupported_algorithm')
    expect(reason(await hs.verify(await mintToken({ keys: rsa, claims: claims() })))).toBe(
      'unsupported_algorithm',
    )
    expect(
      reason(await hs.verify(await mintToken({ alg: 'HS256', secret: 'z'.repeat(32), claims: claims() }))),
    ).toBe('invalid_signature')
    // A PEM has no kid: a token naming any kid, or none, is verified against it, as by the resolver.
    expect(
      reason(await byPem.verify(await mintToken({ keys: rsa, claims: claims(), kid: 'elsewhere' }))),
    ).toBe('ok')
    expect(reason(await byPem.verify(await mintToken({ keys: other, claims: claims(), kid: null })))).toBe(
      'invalid_signature',
    )
  })

  it('still lets the kid choose when the one key has a kid', async () => {
    const rsa = await createTestKeys('RS256')
    const v = verifier({ issuer: ISS, audience: AUD, algorithms: ['RS256'], publicKeys: [rsa.publicJwk!] })
    expect(reason(await v.verify(await mintToken({ keys: rsa, claims: claims() })))).toBe('ok')
    expect(reason(await v.verify(await mintToken({ keys: rsa, claims: claims(), kid: 'elsewhere' })))).toBe(
      'unknown_key',
    )
  })
})

describe('claims', () => {
  let issuer: TestIssuer
  let v: TokenVerifier
  beforeAll(async () => {
    issuer = await TestIssuer.create({ alg: 'ES256' })
  })
  const make = (jwt: Partial<JwtOptions> = {}) =>
    verifier({ ...issuer.jwtOptions(), clockTolerance: 5, ...jwt })

  it('matches iss exactly', async () => {
    v = make()
    for (const iss of [
      'https://evil.test/',
      'https://issuer.test',
      'https://ISSUER.test/',
      'https://issuer.test/x',
      '',
    ])
      expect(reason(await v.verify(await issuer.mint({ iss })))).toBe('invalid_claims')
    expect(reason(await v.verify(await issuer.mint({ iss: undefined })))).toBe('invalid_claims')
    const two = make({ issuer: ['https://other.test/', ISS] })
    expect(reason(await two.verify(await issuer.mint()))).toBe('ok')
  })

  it('matches aud exactly, accepting an array that contains it', async () => {
    v = make()
    for (const aud of ['other-api', 'test-api2', 'TEST-API', ['a', 'b']])
      expect(reason(await v.verify(await issuer.mint({ aud })))).toBe('invalid_claims')
    expect(reason(await v.verify(await issuer.mint({ aud: undefined })))).toBe('invalid_claims')
    expect(reason(await v.verify(await issuer.mint({ aud: ['other', AUD] })))).toBe('ok')
  })

  it('refuses an expired token and a token not yet valid', async () => {
    v = make()
    expect(reason(await v.verify(await issuer.mint({}, { expiresIn: -60 })))).toBe('expired')
    expect(reason(await v.verify(await issuer.mint({}, { notBefore: 60 })))).toBe('not_yet_valid')
  })

  it('applies the clock tolerance exactly at its edges', async () => {
    v = make({ clockTolerance: 5, cacheSize: 0 })
    const t = 1_900_000_000
    const expiring = await issuer.mint({}, { now: t, expiresIn: 0 }) // exp = t
    const early = await issuer.mint({}, { now: t, notBefore: 0, expiresIn: 600 }) // nbf = t
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime((t + 4) * 1000 + 999)
    expect(reason(await v.verify(expiring))).toBe('ok')
    vi.setSystemTime((t + 5) * 1000)
    expect(reason(await v.verify(expiring))).toBe('expired')
    vi.setSystemTime((t - 5) * 1000)
    expect(reason(await v.verify(early))).toBe('ok')
    vi.setSystemTime((t - 6) * 1000 + 999)
    expect(reason(await v.verify(early))).toBe('not_yet_valid')
  })

  it('requires exp', async () => {
    v = make()
    expect(reason(await v.verify(await issuer.mint({}, { expiresIn: null })))).toBe('invalid_claims')
    expect(reason(await v.verify(await issuer.mint({ exp: 'tomorrow' })))).toBe('invalid_claims')
  })

  it('requires sub to be a non-empty string', async () => {
    v = make()
    for (const sub of [undefined, '', 42, ['u']])
      expect(reason(await v.verify(await issuer.mint({ sub })))).toBe('invalid_claims')
  })

  it('requires the tenant claim to equal the tenant id when configured', async () => {
    const config = resolveConfig({
      tenantId: 'acme',
      jwt: { ...issuer.jwtOptions(), tenantClaim: 'tid' },
      env: {},
    })
    v = new TokenVerifier(config.jwt, 'acme')
    open.push(v)
    expect(reason(await v.verify(await issuer.mint({ tid: 'acme' })))).toBe('ok')
    expect(reason(await v.verify(await issuer.mint({ tid: 'globex' })))).toBe('invalid_claims')
    expect(reason(await v.verify(await issuer.mint()))).toBe('invalid_claims')
  })

  it('checks typ against requiredType: at+jwt matches application/at+jwt in any case', async () => {
    v = make({ requiredType: 'at+jwt' })
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt'])
      expect(reason(await v.verify(await issuer.mint({}, { header: { typ } })))).toBe('ok')
    for (const typ of ['JWT', 'jwt', 'at+jwt2', 'application/jwt'])
      expect(reason(await v.verify(await issuer.mint({}, { header: { typ } })))).toBe('invalid_claims')
    expect(reason(await v.verify(await issuer.mint()))).toBe('invalid_claims')
  })

  it('verifies an ID token against idTokenAudience and without the typ rule', async () => {
    v = make({ requiredType: 'at+jwt', idTokenAudience: 'web-client' })
    const idToken = await issuer.mint({ aud: 'web-client' }, { header: { typ: 'JWT' } })
    expect(reason(await v.verify(idToken, { kind: 'id_token' }))).toBe('ok')
    expect(reason(await v.verify(idToken))).toBe('invalid_claims')
    const accessToken = await issuer.mint({}, { header: { typ: 'at+jwt' } })
    expect(reason(await v.verify(accessToken))).toBe('ok')
    // A cached access token is not an ID token: the id_token check never reads the access-token cache.
    expect(reason(await v.verify(accessToken, { kind: 'id_token' }))).toBe('invalid_claims')
    const fallback = make()
    expect(
      reason(await fallback.verify(await issuer.mint({}, { header: { typ: 'JWT' } }), { kind: 'id_token' })),
    ).toBe('ok')
  })
})

describe('shape and size', () => {
  let issuer: TestIssuer
  let v: TokenVerifier
  beforeAll(async () => {
    issuer = await TestIssuer.create({ alg: 'HS256' })
  })

  it('refuses a 16 KiB token before parsing it', async () => {
    v = verifier(issuer.jwtOptions())
    const big = await issuer.mint({ pad: 'x'.repeat(16 * 1024) })
    expect(big.length).toBeGreaterThan(16 * 1024)
    expect(reason(await v.verify(big))).toBe('token_too_large')
    // Garbage of the same size is refused for its size, not its shape: nothing was parsed.
    expect(reason(await v.verify('!'.repeat(16 * 1024)))).toBe('token_too_large')
  })

  it('accepts a token of exactly maxTokenBytes and refuses one byte more', async () => {
    const token = await issuer.mint({ pad: 'x'.repeat(300) })
    expect(
      reason(await verifier({ ...issuer.jwtOptions(), maxTokenBytes: token.length }).verify(token)),
    ).toBe('ok')
    expect(
      reason(await verifier({ ...issuer.jwtOptions(), maxTokenBytes: token.length - 1 }).verify(token)),
    ).toBe('token_too_large')
  })

  it('counts bytes, not characters', async () => {
    v = verifier({ ...issuer.jwtOptions(), maxTokenBytes: 300 })
    expect(reason(await v.verify('é'.repeat(200)))).toBe('token_too_large')
    expect(reason(await v.verify('e'.repeat(200)))).toBe('malformed')
  })

  it('refuses malformed segments, base64 and JSON', async () => {
    v = verifier(issuer.jwtOptions())
    const good = await issuer.mint()
    const [h, p, s] = good.split('.') as [string, string, string]
    const b64 = (value: string) => Buffer.from(value).toString('base64url')
    const cases = [
      '',
      'abc',
      `${h}.${p}`,
      `${h}.${p}.${s}.x`,
      '..',
      `!!!.${p}.${s}`,
      `${b64('{"alg":"HS256"')}.${p}.${s}`,
      `${b64('[]')}.${p}.${s}`,
      `${b64('"HS256"')}.${p}.${s}`,
      `${b64('{"typ":"JWT"}')}.${p}.${s}`,
      `${h}.${p}.${s}!`,
    ]
    for (const token of cases) expect([token, reason(await v.verify(token))]).toEqual([token, 'malformed'])
  })

  it('refuses a correctly signed payload that is not a JSON object', async () => {
    v = verifier(issuer.jwtOptions())
    for (const payload of ['not json', '[1,2]', '"a string"']) {
      const token = await new CompactSign(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg: 'HS256' })
        .sign(issuer.keys.secret!)
      expect(reason(await v.verify(token))).toBe('malformed')
    }
  })

  it('refuses a JWE where a JWS is expected', async () => {
    const rsa = await createTestKeys('RS256')
    v = verifier({ issuer: ISS, audience: AUD, algorithms: ['RS256'], publicKeys: [rsa.publicJwk!] })
    const { publicKey } = await generateKeyPair('RSA-OAEP-256')
    const jwe = await new CompactEncrypt(
      new TextEncoder().encode(JSON.stringify({ iss: ISS, aud: AUD, sub: 'u' })),
    )
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: rsa.kid })
      .encrypt(publicKey)
    expect(jwe.split('.')).toHaveLength(5)
    expect(reason(await v.verify(jwe))).toBe('malformed')
  })

  it('never throws, whatever it is given', async () => {
    v = verifier(issuer.jwtOptions())
    for (const input of [undefined, null, 42, {}, [], Symbol('x')]) {
      await expect(v.verify(input as unknown as string)).resolves.toEqual({ ok: false, reason: 'malformed' })
    }
    await expect(v.verify(await issuer.mint(), null as never)).resolves.toMatchObject({ ok: true })
  })
})
