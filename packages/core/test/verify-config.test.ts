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
