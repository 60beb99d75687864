import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config.ts'
import { CoreSDKClient, MemorySessionStore, type SDKConfig, type TokenRefresher } from '../src/index.ts'

const JWT_SECRET = 'jwt-secret-value-that-is-at-least-32-bytes'
const ENCRYPTION_KEY = new Uint8Array(32).fill(7)
const ENCRYPTION_KEY_TEXT = 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc'
const SIDECAR_SECRET = 'sidecar-secret-value-0123456789abcdef'
const PRIVATE_JWK = { kty: 'oct', k: 'private-jwk-member-value' }

/** Every value reachable from `root` through own properties (enumerable or not) and prototypes' getters. */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>()
  const values: unknown[] = []
  const walk = (value: unknown) => {
    values.push(value)
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value))
      return
    seen.add(value)
    for (const key of Reflect.ownKeys(value as object)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!
      if ('value' in descriptor) walk(descriptor.value)
      else if (descriptor.get) walk(descriptor.get.call(value))
    }
  }
  walk(root)
  return values
}

function isSecret(value: unknown): boolean {
  if (value instanceof Uint8Array || value instanceof MemorySessionStore) return true
  if (typeof value === 'object' && value !== null && 'refresh' in value) return true
  if (typeof value !== 'string') return false
  return [JWT_SECRET, ENCRYPTION_KEY_TEXT, SIDECAR_SECRET, PRIVATE_JWK.k].some((secret) =>
    value.includes(secret),
  )
}

const refresher: TokenRefresher = { refresh: async () => ({ access_token: 'new' }) }
const configs: Array<[string, SDKConfig]> = [
  [
    'embedded, HMAC, a store, a refresher and an encryption key',
    {
      env: {},
      tenantId: 'acme',
      sidecarSecret: SIDECAR_SECRET,
      jwt: { issuer: 'https://id.test/', audience: 'api', algorithms: ['HS256'], secret: JWT_SECRET },
      sessions: { store: new MemorySessionStore(), encryptionKey: ENCRYPTION_KEY, tokenRefresher: refresher },
    },
  ],
  [
    'secrets from the environment',
    {
      env: {
        CORESDK_JWT_ISSUER: 'https://id.test/',
        CORESDK_JWT_AUDIENCE: 'api',
        CORESDK_JWT_ALGORITHMS: 'HS256',
        CORESDK_JWT_SECRET: JWT_SECRET,
        CORESDK_SESSION_ENCRYPTION_KEY: ENCRYPTION_KEY_TEXT,
        CORESDK_SIDECAR_SECRET: SIDECAR_SECRET,
      },
    },
  ],
  [
    'public keys, one of them a private JWK given by mistake',
    {
      env: {},
      jwt: {
        issuer: 'https://id.test/',
        audience: 'api',
        algorithms: ['RS256'],
        publicKeys: [
          PRIVATE_JWK as never,
          `-----BEGIN PRIVATE KEY-----\n${PRIVATE_JWK.k}\n-----END PRIVATE KEY-----`,
        ],
      },
    },
  ],
]

describe('sdk.config, the public view of the configuration', () => {
  for (const [name, config] of configs) {
    it(`reaches no secret value, and neither does JSON.stringify or util.inspect of the client: ${name}`, async () => {
      const sdk = new CoreSDKClient(config)
      try {
        expect(reachable(sdk.config).filter(isSecret)).toEqual([])
        // The client's own fields are private (#): nothing but the view is reachable from the instance either.
        expect(reachable(sdk).filter(isSecret)).toEqual([])
        const printed = [JSON.stringify(sdk), JSON.stringify(sdk.config), inspect(sdk, { depth: 20 })]
        printed.push(inspect(sdk.config, { depth: 20, showHidden: true }))
        for (const text of printed) {
          for (const secret of [JWT_SECRET, ENCRYPTION_KEY_TEXT, SIDECAR_SECRET, PRIVATE_JWK.k])
            expect(text).not.toContain(secret)
          expect(text).not.toMatch(/Uint8Array|MemorySessionStore/)
        }
      } finally {
        await sdk.close()
      }
    })
  }

  it('says which secrets were set, without their values', async () => {
    const [withAll, fromEnv, withKeys] = configs.map(([, config]) => new CoreSDKClient(config))
    expect(withAll!.config).toMatchObject({
      tenantId: 'acme',
      hasSidecarSecret: true,
      jwt: { hasSecret: true, publicKeyCount: 0, algorithms: ['HS256'] },
      sessions: { hasStore: true, hasEncryptionKey: true, hasTokenRefresher: true },
    })
    expect(fromEnv!.config).toMatchObject({
      hasSidecarSecret: true,
      jwt: { hasSecret: true },
      sessions: { hasStore: false, hasEncryptionKey: true, hasTokenRefresher: false },
    })
    expect(withKeys!.config).toMatchObject({
      hasSidecarSecret: false,
      jwt: { hasSecret: false, publicKeyCount: 2 },
    })
    for (const sdk of [withAll, fromEnv, withKeys]) await sdk!.close()
  })

  it('is frozen all the way down, so no caller changes what the client shows', async () => {
    const sdk = new CoreSDKClient(configs[0]![1])
    for (const value of reachable(sdk.config))
      if (typeof value === 'object' && value !== null) expect(Object.isFrozen(value)).toBe(true)
    expect(() => {
      ;(sdk.config.jwt.issuer as string[]).push('https://evil.test/')
    }).toThrow(TypeError)
    await sdk.close()
  })

  it('shows every setting of the resolved configuration, each secret as whether it was set', () => {
    const config = configs[0]![1]
    const resolved = resolveConfig(config)
    const sdk = new CoreSDKClient(config)
    const shown = (value: object) => Object.keys(value).sort()
    const renamed: Record<string, string> = {
      sidecarSecret: 'hasSidecarSecret',
      secret: 'hasSecret',
      publicKeys: 'publicKeyCount',
      store: 'hasStore',
      encryptionKeys: 'hasEncryptionKey',
      tokenRefresher: 'hasTokenRefresher',
    }
    const expected = (value: object) =>
      Object.keys(value)
        .map((key) => renamed[key] ?? key)
        .sort()
    expect(shown(sdk.config)).toEqual(expected(resolved))
    expect(shown(sdk.config.jwt)).toEqual(expected(resolved.jwt))
    expect(shown(sdk.config.sessions)).toEqual(expected(resolved.sessions))
    expect(shown(sdk.config.sessions.cookie)).toEqual(expected(resolved.sessions.cookie))
    expect(sdk.config.sessions.cookie).toEqual(resolved.sessions.cookie)
    return sdk.close()
  })
})
