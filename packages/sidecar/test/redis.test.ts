import { randomBytes } from 'node:crypto'
import { CoreSDKClient } from '@coresdk/core'
import { ensureRedis, freePort, type RedisService } from '@coresdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, type Identity, SECRET, type SidecarProcess, startIdentity, startSidecar } from './helpers.ts'

const redis: RedisService = await ensureRedis()
if (redis.url === null) console.log(`skipped: sidecar with Redis (${redis.reason})`)

describe.skipIf(redis.url === null)('two sidecars sharing Redis (REDIS_URL)', () => {
  let identity: Identity
  let first: SidecarProcess
  let second: SidecarProcess
  let env: Record<string, string>
  const clients: CoreSDKClient[] = []
  const client = (sidecar: SidecarProcess) => {
    const sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: sidecar.url,
      sidecarSecret: SECRET,
      tenantId: 'acme',
      // Deadlines are not the subject here: room for a loaded machine.
      sidecar: { cacheTtl: 0, timeout: 5000 },
    })
    clients.push(sdk)
    return sdk
  }

  beforeAll(async () => {
    identity = await startIdentity()
    env = {
      ...identity.env,
      CORESDK_TENANT_ID: 'acme',
      REDIS_URL: redis.url!,
      CORESDK_SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      CORESDK_SIDECAR_SECRET: SECRET,
      // getTokens() through the other sidecar shows the shared encryption key: the opt-in endpoint is on.
      CORESDK_SIDECAR_EXPOSE_TOKENS: '1',
    }
    ;[first, second] = await Promise.all([startSidecar(env), startSidecar(env)])
  })
  afterAll(async () => {
    for (const sdk of clients) await sdk.close()
    await Promise.all([first?.stop(), second?.stop()])
    await identity?.close()
    await redis.stop?.()
  })

  it('logs that sessions live in Redis, and is ready', async () => {
    expect(first.logs()).toContainEqual(expect.objectContaining({ msg: 'session store', store: 'redis' }))
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200)
  })

  it('a session created through one sidecar is seen, and revoked, through the other', async () => {
    const a = client(first)
    const b = client(second)
    const sub = `usr_redis_${Date.now()}`
    const created = await a
      .sessions()
      .create({ id_token: await identity.issuer.mint({ sub }), refresh_token: 'rt-redis' })
    expect(await b.sessions().get(created.id)).toMatchObject({ id: created.id, userId: sub })
    // The encryption key is shared, so the other sidecar can open the stored tokens.
    expect(await b.sessions().getTokens(created.id)).toMatchObject({ refreshToken: 'rt-redis' })
    const token = await identity.issuer.mint({ sub, jti: `${sub}-t` })
    const onA = await a.authenticate({ authorization: bearer(token) })
    const onB = await b.authenticate({ authorization: bearer(token) })
    expect(onA.ok && onB.ok && onA.session!.id === onB.session!.id).toBe(true)
    expect(await b.sessions().revokeAllForUser(sub)).toBe(2)
    expect(await a.authenticate({ authorization: bearer(token) })).toMatchObject({
      ok: false,
      problem: { body: { code: 'invalid_token' } },
    })
    expect(await a.authenticate({ cookie: created.setCookie.split(';')[0]! })).toMatchObject({ ok: false })
  })

  it('sessions survive a sidecar restart', async () => {
    const sub = `usr_restart_${Date.now()}`
    const before = await client(first).authenticate({
      authorization: bearer(await identity.issuer.mint({ sub })),
    })
    if (!before.ok) throw new Error('expected ok')
    await first.stop()
    first = await startSidecar(env, { port: first.port })
    // Live is not ready: the new process answers for sessions once its Redis connection is up.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      if ((await fetch(`${first.url}/readyz`)).status === 200) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(await client(first).sessions().get(before.session!.id)).toMatchObject({
      id: before.session!.id,
      userId: sub,
    })
  })
})

describe('readiness with a store that does not answer', () => {
  it('answers /healthz 200 but /readyz 503 store_unavailable, and stays up', async () => {
    const identity = await startIdentity()
    const port = await freePort()
    const sidecar = await startSidecar({
      ...identity.env,
      CORESDK_SIDECAR_SECRET: SECRET,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    })
    try {
      expect((await fetch(`${sidecar.url}/healthz`)).status).toBe(200)
      const ready = await fetch(`${sidecar.url}/readyz`)
      expect(ready.status).toBe(503)
      expect(ready.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(await ready.json()).toMatchObject({ code: 'store_unavailable' })
    } finally {
      await sidecar.stop()
      await identity.close()
    }
  })
})
