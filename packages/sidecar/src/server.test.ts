import { CoreSDKClient } from '@coresdk/core'
import { describe, expect, it } from 'vitest'
import { createSidecarServer } from './server.ts'

const jwt = {
  issuer: 'https://issuer.test/',
  audience: 'api',
  algorithms: ['HS256' as const],
  secret: 'k'.repeat(32),
}
const SECRET = 's'.repeat(32)

describe('createSidecarServer configuration', () => {
  it('refuses to start without a secret, on loopback as on any address, naming the settings', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost', '0.0.0.0']) {
      expect(() => createSidecarServer({ config: { env: {}, jwt }, host, logger: false }), host).toThrow(
        /refusing to start without a secret\. Set CORESDK_SIDECAR_SECRET .* or CORESDK_SIDECAR_TENANTS/,
      )
    }
    expect(() => createSidecarServer({ config: { env: {}, jwt }, tenants: [], logger: false })).toThrow(
      /without a secret/,
    )
    expect(() =>
      createSidecarServer({ config: { env: {}, jwt }, host: '0.0.0.0', secret: SECRET, logger: false }),
    ).not.toThrow()
    expect(() =>
      createSidecarServer({
        config: { env: {}, jwt },
        tenants: [{ tenantId: 'acme', secret: SECRET }],
        logger: false,
      }),
    ).not.toThrow()
  })

  it('refuses a short secret, a bad port, a client in sidecar mode and two secrets for one tenant', () => {
    expect(() => createSidecarServer({ config: { env: {}, jwt }, secret: 'short', logger: false })).toThrow(
      /at least 32 bytes/,
    )
    expect(() =>
      createSidecarServer({ config: { env: {}, jwt }, secret: SECRET, port: 70_000, logger: false }),
    ).toThrow(/CORESDK_SIDECAR_PORT/)
    const remote = new CoreSDKClient({ env: {}, mode: 'sidecar' })
    expect(() => createSidecarServer({ sdk: remote, secret: SECRET, logger: false })).toThrow(/embedded/)
    expect(() =>
      createSidecarServer({
        config: { env: {}, jwt, tenantId: 'acme' },
        secret: SECRET,
        tenants: [{ tenantId: 'acme', secret: `${SECRET}x` }],
        logger: false,
      }),
    ).toThrow(/two secrets/)
  })

  it('listens on an ephemeral port, logs it, and closes', async () => {
    const entries: Array<Record<string, unknown>> = []
    const sidecar = createSidecarServer({
      config: { env: {}, jwt },
      secret: SECRET,
      port: 0,
      logger: (e) => entries.push(e),
    })
    const url = await sidecar.listen()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(sidecar.url).toBe(url)
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' })
    await sidecar.close()
    expect(entries.map((e) => e.msg)).toEqual(['listening', 'request', 'shutting down', 'stopped'])
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })
})
