import { describe, expect, it } from 'vitest'
import { sidecarOptionsFromEnv } from './env.ts'

const SECRET = 's'.repeat(32)

describe('sidecarOptionsFromEnv', () => {
  it('defaults to 127.0.0.1:7233, a 64 KiB body limit and no secret', () => {
    expect(sidecarOptionsFromEnv({})).toEqual({
      host: '127.0.0.1',
      port: 7233,
      bodyLimit: 65_536,
      shutdownTimeout: 10_000,
    })
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
