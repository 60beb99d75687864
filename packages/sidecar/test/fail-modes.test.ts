import { type AuthenticateResult, CoreSDKClient, type SDKConfig } from '@coresdk/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  api,
  bearer,
  type Identity,
  SECRET,
  type SidecarProcess,
  startIdentity,
  startSidecar,
} from './helpers.ts'

const TIMEOUT = 1000
// How much later than the deadline an answer may come on a loaded two-core machine.
const MARGIN = 1000

type Sample = { started: number; elapsed: number; result: AuthenticateResult }

describe('the sidecar killed, frozen and restarted under load (same SDK instances throughout)', () => {
  let identity: Identity
  let sidecar: SidecarProcess
  let env: Record<string, string>
  let closed: CoreSDKClient
  let open: CoreSDKClient
  let openWithoutKeys: CoreSDKClient
  const make = (config: SDKConfig) =>
    new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: sidecar.url,
      sidecarSecret: SECRET,
      tenantId: 'acme',
      serviceName: 'my-api',
      sidecar: { timeout: TIMEOUT, cacheTtl: 0 },
      ...config,
    })

  const timed = async (
    sdk: CoreSDKClient,
    request: Parameters<CoreSDKClient['authenticate']>[0],
  ): Promise<Sample> => {
    const started = performance.now()
    const result = await sdk.authenticate(request)
    return { started, elapsed: performance.now() - started, result }
  }
  // Keys fetched, code compiled: the first timed call then measures the steady state.
  const warmUp = async () =>
    api(
      sidecar.url,
      'POST',
      '/v1/authenticate',
      { authorization: bearer(await identity.issuer.mint({ sub: 'usr_warm' })) },
      { 'x-coresdk-sidecar-key': SECRET },
    )
  const code = (sample: Sample) => (sample.result.ok ? 'ok' : sample.result.problem.body.code)

  beforeAll(async () => {
    identity = await startIdentity()
    env = { ...identity.env, CORESDK_TENANT_ID: 'acme', CORESDK_SIDECAR_SECRET: SECRET }
    sidecar = await startSidecar(env)
    closed = make({ failMode: 'closed' })
    open = make({ failMode: 'open', jwt: identity.jwt })
    openWithoutKeys = make({ failMode: 'open' })
    // Warm up (keys fetched, code compiled) without a deadline, so the first timed call measures the steady state.
    await warmUp()
  })
  afterAll(async () => {
    await Promise.all([closed?.close(), open?.close(), openWithoutKeys?.close()])
    await sidecar?.stop()
    await identity?.close()
  })

  it('killed mid-load: closed answers 503 within the deadline, open lets verified tokens through degraded; restarted: back to normal', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        identity.issuer.mint({ sub: `usr_load_${i % 4}`, jti: `load-${i}` }),
      ),
    )
    const forged = `${tokens[0]!.slice(0, -4)}AAAA`
    const revoked = await identity.issuer.mint({ sub: 'usr_gone', jti: 'gone' })
    const before = await open.authenticate({ authorization: bearer(revoked) })
    if (!before.ok) throw new Error('expected the token to pass')
    expect(await open.sessions().revoke(before.session!.id)).toBe(true)
    const created = await open
      .sessions()
      .create({ id_token: await identity.issuer.mint({ sub: 'usr_cookie' }) })
    const cookie = created.setCookie.split(';')[0]!

    const samples: Array<Sample & { mode: 'closed' | 'open' }> = []
    let running = true
    let i = 0
    const worker = async () => {
      while (running) {
        const token = tokens[i++ % tokens.length]!
        const [c, o] = await Promise.all([
          timed(closed, { authorization: bearer(token) }),
          timed(open, { authorization: bearer(token) }),
        ])
        samples.push({ ...c, mode: 'closed' }, { ...o, mode: 'open' })
      }
    }
    const workers = Array.from({ length: 6 }, worker)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const healthy = samples.length
    expect(healthy).toBeGreaterThan(10)
    expect(samples.every((s) => s.result.ok && !s.result.degraded && s.result.session !== null)).toBe(true)

    sidecar.signal('SIGKILL')
    await sidecar.exited
    const killedAt = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    running = false
    await Promise.all(workers)

    const after = samples.filter((s) => s.started >= killedAt)
    expect(after.length).toBeGreaterThan(10)
    const closedAfter = after.filter((s) => s.mode === 'closed')
    const openAfter = after.filter((s) => s.mode === 'open')
    expect(new Set(closedAfter.map(code))).toEqual(new Set(['sidecar_unavailable']))
    for (const sample of closedAfter) {
      expect(sample.elapsed).toBeLessThan(TIMEOUT + MARGIN)
      if (!sample.result.ok) {
        expect(sample.result.problem.status).toBe(503)
        expect(sample.result.problem.headers['retry-after']).toMatch(/^\d+$/)
      }
    }
    for (const sample of openAfter) {
      expect(sample.result).toMatchObject({ ok: true, degraded: true, session: null })
      expect(sample.elapsed).toBeLessThan(TIMEOUT + MARGIN)
    }
    console.log(
      `sidecar killed under load: ${healthy} answers before, ${after.length} after; slowest answer after the kill: ` +
        `${Math.round(Math.max(...after.map((s) => s.elapsed)))} ms (deadline ${TIMEOUT} ms)`,
    )

    // While it is down: open still checks what it can, and nothing unverifiable passes.
    expect(code(await timed(open, { authorization: bearer(forged) }))).toBe('invalid_token')
    expect(code(await timed(open, { authorization: bearer(revoked) }))).toBe('invalid_token')
    expect(code(await timed(open, { cookie }))).toBe('sidecar_unavailable')
    expect(code(await timed(openWithoutKeys, { authorization: bearer(tokens[0]!) }))).toBe(
      'sidecar_unavailable',
    )
    await expect(closed.sessions().listForUser('usr_load_0')).rejects.toMatchObject({
      code: 'sidecar_unavailable',
      status: 503,
    })
    const authorize = await open.auth().authorize({ token: tokens[1]! })
    expect(authorize).toMatchObject({ allowed: true, claims: { sub: 'usr_load_1' } })
    expect(await closed.auth().authorize({ token: tokens[1]! })).toMatchObject({
      allowed: false,
      problem: { status: 503, body: { code: 'sidecar_unavailable' } },
    })

    // Restarted on the same address: the very same SDK instances recover by themselves.
    sidecar = await startSidecar(env, { port: sidecar.port })
    await warmUp()
    for (const sdk of [closed, open, openWithoutKeys]) {
      const result = await sdk.authenticate({ authorization: bearer(tokens[2]!) })
      expect(result).toMatchObject({ ok: true, degraded: false, user: { sub: 'usr_load_2' } })
      expect(result.ok && result.session?.id).toMatch(/^sess_/)
    }
  })

  it('frozen (SIGSTOP: connections accepted, never answered): the deadline answers; thawed: back to normal', async () => {
    const token = await identity.issuer.mint({ sub: 'usr_frozen', jti: 'frozen' })
    expect((await closed.authenticate({ authorization: bearer(token) })).ok).toBe(true)
    sidecar.signal('SIGSTOP')
    try {
      const [c, o] = await Promise.all([
        timed(closed, { authorization: bearer(token) }),
        timed(open, { authorization: bearer(token) }),
      ])
      expect(code(c)).toBe('sidecar_unavailable')
      expect(c.elapsed).toBeGreaterThanOrEqual(TIMEOUT - 20)
      expect(c.elapsed).toBeLessThan(TIMEOUT + MARGIN)
      expect(o.result).toMatchObject({ ok: true, degraded: true, user: { sub: 'usr_frozen' } })
      expect(o.elapsed).toBeLessThan(TIMEOUT + MARGIN)
      const started = performance.now()
      await expect(open.sessions().get('sess_01HX7KQMB4ABCDEFGHJKMNPQRS')).rejects.toMatchObject({
        code: 'sidecar_unavailable',
      })
      expect(performance.now() - started).toBeLessThan(TIMEOUT + MARGIN)
    } finally {
      sidecar.signal('SIGCONT')
    }
    const thawed = await closed.authenticate({ authorization: bearer(token) })
    expect(thawed).toMatchObject({ ok: true, degraded: false })
  })

  it('stops gracefully on SIGTERM: in-flight requests finish, then the process exits 0', async () => {
    const token = await identity.issuer.mint({ sub: 'usr_term', jti: 'term' })
    const inFlight = Array.from({ length: 20 }, () => closed.authenticate({ authorization: bearer(token) }))
    await new Promise((resolve) => setTimeout(resolve, 5))
    const exit = sidecar.stop()
    const results = await Promise.all(inFlight)
    // Each either completed normally or, arriving after the stop, was refused as unavailable: never anything else.
    for (const result of results)
      expect(result.ok ? 'ok' : result.problem.body.code).toMatch(/^(ok|sidecar_unavailable)$/)
    expect(results.some((r) => r.ok)).toBe(true)
    expect(await exit).toEqual({ code: 0, signal: null })
    expect(sidecar.logs().map((l) => l.msg)).toEqual(
      expect.arrayContaining(['signal', 'shutting down', 'stopped']),
    )
  })
})
