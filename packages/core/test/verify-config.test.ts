import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CoreSDKClient } from '../src/client.ts'
import { resolveConfig } from '../src/config.ts'
import { CoreSDKError } from '../src/errors.ts'

const SECRET = 'a-secret-value-that-is-long-enough-0123456789'
const base = {
  CORESDK_JWT_ISSUER: 'https://issuer.test/',
  CORESDK_JWT_AUDIENCE: 'my-api',
  CORESDK_JWT_ALGORITHMS: 'RS256',
  CORESDK_JWKS_URL: 'https://issuer.test/jwks',
}

function failure(env: Record<string, string | undefined>): CoreSDKError {
  try {
    new CoreSDKClient({ env })
  } catch (error) {
    expect(error).toBeInstanceOf(CoreSDKError)
    expect((error as CoreSDKError).code).toBe('invalid_config')
    return error as CoreSDKError
  }
  throw new Error('the configuration was accepted')
}

describe('configuration errors name the setting', () => {
  it('CORESDK_FAIL_MODE=opn', () => {
    const { message } = failure({ ...base, CORESDK_FAIL_MODE: 'opn' })
    expect(message).toContain('CORESDK_FAIL_MODE')
    expect(message).toContain('"open" or "closed"')
  })

  it('a missing CORESDK_JWT_ALGORITHMS', () => {
    expect(failure({ ...base, CORESDK_JWT_ALGORITHMS: undefined }).message).toContain(
      'CORESDK_JWT_ALGORITHMS',
    )
  })

  it('HS256 with a JWKS URL', () => {
    const { message } = failure({ ...base, CORESDK_JWT_ALGORITHMS: 'HS256', CORESDK_JWT_SECRET: SECRET })
    expect(message).toContain('CORESDK_JWT_ALGORITHMS')
    expect(message).toContain('JWKS')
  })

  it('HMAC and public-key algorithms mixed', () => {
    expect(failure({ ...base, CORESDK_JWT_ALGORITHMS: 'HS256,RS256' }).message).toContain('never both')
  })

  it('alg none in the allowlist, in any case', () => {
    for (const alg of ['none', 'NONE', 'None']) {
      const { message } = failure({ ...base, CORESDK_JWT_ALGORITHMS: alg })
      expect(message).toContain('CORESDK_JWT_ALGORITHMS')
    }
  })

  it('a short HMAC secret, without echoing it', () => {
    const { message } = failure({
      ...base,
      CORESDK_JWKS_URL: undefined,
      CORESDK_JWT_ALGORITHMS: 'HS256',
      CORESDK_JWT_SECRET: 'short-secret',
    })
    expect(message).toContain('CORESDK_JWT_SECRET')
    expect(message).not.toContain('short-secret')
  })

  it('a missing issuer, audience or key source', () => {
    expect(failure({ ...base, CORESDK_JWT_ISSUER: undefined }).message).toContain('CORESDK_JWT_ISSUER')
    expect(failure({ ...base, CORESDK_JWT_AUDIENCE: undefined }).message).toContain('CORESDK_JWT_AUDIENCE')
    expect(failure({ ...base, CORESDK_JWKS_URL: undefined }).message).toContain('CORESDK_JWKS_URL')
  })

  it('an out-of-range number', () => {
    expect(failure({ ...base, CORESDK_JWT_MAX_TOKEN_BYTES: 'lots' }).message).toContain(
      'CORESDK_JWT_MAX_TOKEN_BYTES',
    )
    expect(failure({ ...base, CORESDK_JWT_CLOCK_TOLERANCE: '-1' }).message).toContain(
      'CORESDK_JWT_CLOCK_TOLERANCE',
    )
    expect(failure({ ...base, CORESDK_JWKS_TIMEOUT_MS: '0' }).message).toContain('CORESDK_JWKS_TIMEOUT_MS')
  })
})

describe('jwt settings from the environment', () => {
  it('reads every jwt setting, with its default', () => {
    const defaults = resolveConfig({ env: base }).jwt
    expect(defaults).toMatchObject({
      issuer: ['https://issuer.test/'],
      audience: ['my-api'],
      idTokenAudience: [],
      algorithms: ['RS256'],
      clockTolerance: 5,
      maxTokenBytes: 8192,
      jwksCacheMaxAge: 600_000,
      jwksCooldown: 30_000,
      jwksTimeout: 5000,
      cacheSize: 10_000,
      requiredType: undefined,
      tenantClaim: undefined,
    })
    const set = resolveConfig({
      env: {
        ...base,
        CORESDK_JWT_AUDIENCE: 'a, b',
        CORESDK_JWT_ID_TOKEN_AUDIENCE: 'web-client, mobile-client',
        CORESDK_JWT_TYPE: 'at+jwt',
        CORESDK_JWT_TENANT_CLAIM: 'tid',
        CORESDK_JWT_CACHE_SIZE: '0',
      },
    }).jwt
    expect(set).toMatchObject({
      audience: ['a', 'b'],
      idTokenAudience: ['web-client', 'mobile-client'],
      requiredType: 'at+jwt',
      tenantClaim: 'tid',
      cacheSize: 0,
    })
    expect(resolveConfig({ env: base, jwt: { idTokenAudience: 'x' } }).jwt.idTokenAudience).toEqual(['x'])
  })
})

describe('the session cookie’s name', () => {
  const cookieOf = (cookie: object, env: Record<string, string> = {}) =>
    resolveConfig({ env: { ...base, ...env }, sessions: { cookie } }).sessions.cookie

  it('carries __Host- by default: Secure, Path=/ and no Domain, so no subdomain can set or shadow it', () => {
    expect(cookieOf({})).toMatchObject({
      name: '__Host-coresdk_session',
      secure: true,
      path: '/',
      domain: undefined,
    })
  })

  it('carries __Secure- when a domain or another path rules __Host- out, and no prefix when not secure', () => {
    expect(cookieOf({ domain: 'example.com' }).name).toBe('__Secure-coresdk_session')
    expect(cookieOf({ path: '/app' }).name).toBe('__Secure-coresdk_session')
    expect(cookieOf({ secure: false }).name).toBe('coresdk_session')
    expect(cookieOf({}, { CORESDK_COOKIE_SECURE: 'false' }).name).toBe('coresdk_session')
  })

  it('keeps a configured name, prefixed or not, when its settings fit', () => {
    expect(cookieOf({ name: 'coresdk_session' }).name).toBe('coresdk_session')
    expect(cookieOf({ name: '__Host-app' }).name).toBe('__Host-app')
    expect(cookieOf({ name: '__Secure-app', domain: 'example.com' }).name).toBe('__Secure-app')
    expect(cookieOf({}, { CORESDK_COOKIE_NAME: '__Host-sid' }).name).toBe('__Host-sid')
  })

  it('refuses a prefixed name whose settings break the prefix, naming the setting', () => {
    const refusal = (cookie: object, env: Record<string, string> = {}) => {
      try {
        cookieOf(cookie, env)
      } catch (error) {
        expect(error).toBeInstanceOf(CoreSDKError)
        expect((error as CoreSDKError).code).toBe('invalid_config')
        return (error as CoreSDKError).message
      }
      throw new Error('the configuration was accepted')
    }
    const domain = refusal({ name: '__Host-app', domain: 'example.com' })
    expect(domain).toContain('sessions.cookie.name')
    expect(domain).toContain('sessions.cookie.domain')
    expect(refusal({ name: '__Host-app', path: '/app' })).toContain('sessions.cookie.path')
    expect(refusal({ name: '__Host-app', secure: false })).toContain('sessions.cookie.secure')
    // Browsers match the prefixes case-insensitively.
    expect(refusal({ name: '__SECURE-app', secure: false })).toContain('sessions.cookie.secure')
    const env = refusal({}, { CORESDK_COOKIE_NAME: '__Host-sid', CORESDK_COOKIE_SECURE: 'false' })
    expect(env).toContain('CORESDK_COOKIE_NAME')
    expect(env).toContain('CORESDK_COOKIE_SECURE')
  })

  it('refuses a path or domain a cookie cannot carry', () => {
    expect(() => cookieOf({ path: 'app' })).toThrow(/sessions\.cookie\.path/)
    expect(() => cookieOf({ path: '/a;b' })).toThrow(/sessions\.cookie\.path/)
    expect(() => cookieOf({ domain: 'exa mple.com' })).toThrow(/sessions\.cookie\.domain/)
  })
})

describe('session encryption keys: one, or a list newest first', () => {
  const keyA = Buffer.alloc(32, 1).toString('base64url')
  const keyB = Buffer.alloc(32, 2).toString('base64url')
  const bad = Buffer.alloc(16, 3).toString('base64url')

  it('reads a comma-separated CORESDK_SESSION_ENCRYPTION_KEY, newest first, and a list option', () => {
    const fromEnv = resolveConfig({ env: { ...base, CORESDK_SESSION_ENCRYPTION_KEY: `${keyB}, ${keyA}` } })
    expect(fromEnv.sessions.encryptionKeys.map((k) => Buffer.from(k).toString('base64url'))).toEqual([
      keyB,
      keyA,
    ])
    const fromOption = resolveConfig({ env: base, sessions: { encryptionKey: [keyB, Buffer.alloc(32, 1)] } })
    expect(fromOption.sessions.encryptionKeys.map((k) => k[0])).toEqual([2, 1])
    expect(resolveConfig({ env: base }).sessions.encryptionKeys).toEqual([])
  })

  it('names the position of a bad key, never its value', () => {
    const { message } = failure({ ...base, CORESDK_SESSION_ENCRYPTION_KEY: `${keyB},${bad}` })
    expect(message).toContain('CORESDK_SESSION_ENCRYPTION_KEY (key 2 of 2)')
    expect(message).not.toContain(bad)
    expect(message).not.toContain(keyB)
    expect(failure({ ...base, CORESDK_SESSION_ENCRYPTION_KEY: `${keyB},,${keyA}` }).message).toContain(
      '(key 2 of 3)',
    )
    let error: unknown
    try {
      resolveConfig({ env: base, sessions: { encryptionKey: [keyA, keyB, bad] } })
    } catch (e) {
      error = e
    }
    expect((error as CoreSDKError).message).toContain('sessions.encryptionKey (key 3 of 3)')
    expect(inspect(error)).not.toContain(bad)
    expect(() => resolveConfig({ env: base, sessions: { encryptionKey: [] } })).toThrow(
      /sessions\.encryptionKey/,
    )
    expect(failure({ ...base, CORESDK_SESSION_ENCRYPTION_KEY: bad }).message).toMatch(
      /CORESDK_SESSION_ENCRYPTION_KEY is invalid/,
    )
  })

  it('never prints the keys of a list: util.inspect, JSON and the client show neither bytes nor encodings', () => {
    const sdk = new CoreSDKClient({ env: { ...base, CORESDK_SESSION_ENCRYPTION_KEY: `${keyB},${keyA}` } })
    const shown = [
      inspect(sdk, { depth: 10 }),
      inspect(sdk.config, { depth: 10 }),
      JSON.stringify(sdk.config),
    ].join('\n')
    for (const key of [keyA, keyB]) expect(shown).not.toContain(key)
    expect(shown).not.toMatch(/Uint8Array|Buffer/)
    expect(JSON.stringify(sdk.config)).toContain('"hasEncryptionKey":true')
    void sdk.close()
  })
})

describe('sessions.persistentTimeout', () => {
  it('defaults to absoluteTimeout, reads CORESDK_SESSION_PERSISTENT_TIMEOUT, and is at least idleTimeout', () => {
    expect(resolveConfig({ env: base, sessions: { absoluteTimeout: 7200 } }).sessions.persistentTimeout).toBe(
      7200,
    )
    expect(
      resolveConfig({ env: { ...base, CORESDK_SESSION_PERSISTENT_TIMEOUT: '2592000' } }).sessions
        .persistentTimeout,
    ).toBe(2_592_000)
    expect(failure({ ...base, CORESDK_SESSION_PERSISTENT_TIMEOUT: 'week' }).message).toContain(
      'CORESDK_SESSION_PERSISTENT_TIMEOUT',
    )
    expect(() => resolveConfig({ env: base, sessions: { idleTimeout: 600, persistentTimeout: 60 } })).toThrow(
      /sessions\.persistentTimeout.*at least sessions\.idleTimeout/,
    )
  })
})
