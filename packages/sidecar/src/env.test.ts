import { describe, expect, it } from 'vitest'
import { sidecarOptionsFromEnv } from './env.ts'

const SECRET = 's'.repeat(32)

describe('sidecarOptionsFromEnv', () => {
  it('defaults to 127.0.0.1:7233, a 64 KiB body limit, no secret and no tokens handed out', () => {
    expect(sidecarOptionsFromEnv({})).toEqual({
      host: '127.0.0.1',
      port: 7233,
      bodyLimit: 65_536,
      shutdownTimeout: 10_000,
      exposeTokens: false,
    })
  })

  it('hands out session tokens only when CORESDK_SIDECAR_EXPOSE_TOKENS says so', () => {
    for (const on of ['1', 'true', 'TRUE'])
      expect(sidecarOptionsFromEnv({ CORESDK_SIDECAR_EXPOSE_TOKENS: on }).exposeTokens).toBe(true)
    for (const off of ['0', 'false', ''])
      expect(sidecarOptionsFromEnv({ CORESDK_SIDECAR_EXPOSE_TOKENS: off }).exposeTokens).toBe(false)
    expect(() => sidecarOptionsFromEnv({ CORESDK_SIDECAR_EXPOSE_TOKENS: 'yes' })).toThrow(
      /CORESDK_SIDECAR_EXPOSE_TOKENS="yes" is invalid; it accepts 1 or true, 0 or false/,
    )
  })

  it('reads the host, the port (CORESDK_SIDECAR_PORT before PORT), the secret and the tenants', () => {
    expect(sidecarOptionsFromEnv({ PORT: '8080' }).port).toBe(8080)
    expect(sidecarOptionsFromEnv({ PORT: '8080', CORESDK_SIDECAR_PORT: '9000' }).port).toBe(9000)
    const options = sidecarOptionsFromEnv({
      CORESDK_SIDECAR_HOST: '0.0.0.0',
      CORESDK_SIDECAR_SECRET: SECRET,
      CORESDK_SIDECAR_TENANTS: `acme:${SECRET}a`,
    })
    expect(options).toMatchObject({
      host: '0.0.0.0',
      secret: SECRET,
      tenants: [{ tenantId: 'acme', secret: `${SECRET}a` }],
    })
  })

  it('names the setting of a bad value', () => {
    expect(() => sidecarOptionsFromEnv({ CORESDK_SIDECAR_PORT: 'http' })).toThrow(
      /CORESDK_SIDECAR_PORT="http" is invalid/,
    )
    expect(() => sidecarOptionsFromEnv({ PORT: '70000' })).toThrow(/PORT="70000"/)
    expect(() => sidecarOptionsFromEnv({ CORESDK_SIDECAR_BODY_LIMIT: '10' })).toThrow(
      /CORESDK_SIDECAR_BODY_LIMIT/,
    )
    expect(() =>
      sidecarOptionsFromEnv({ CORESDK_SIDECAR_TENANTS_FILE: '/nonexistent/tenants.json' }),
    ).toThrow(/CORESDK_SIDECAR_TENANTS_FILE cannot be read/)
    expect(() =>
      sidecarOptionsFromEnv({ CORESDK_SIDECAR_TENANTS: `a:${SECRET}`, CORESDK_SIDECAR_TENANTS_FILE: 'x' }),
    ).toThrow(/not both/)
  })
})
