import { CoreSDKClient, CoreSDKError, CreatedSession, type SDKConfig, Session } from '@coresdk/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, type Identity, SECRET, type SidecarProcess, startIdentity, startSidecar } from './helpers.ts'

describe('the SDK in sidecar mode (CORESDK_MODE=sidecar) against a real sidecar process', () => {
  let identity: Identity
  let sidecar: SidecarProcess
  const clients: CoreSDKClient[] = []
  const client = (config: SDKConfig = {}) => {
    const sdk = new CoreSDKClient({
      env: {
        CORESDK_MODE: 'sidecar',
        CORESDK_SIDECAR_ADDR: sidecar.url,
        CORESDK_SIDECAR_SECRET: SECRET,
        CORESDK_TENANT_ID: 'acme',
      },
      serviceName: 'my-api',
      ...config,
    })
    clients.push(sdk)
    return sdk
  }

  beforeAll(async () => {
    identity = await startIdentity()
    sidecar = await startSidecar({
      ...identity.env,
      CORESDK_TENANT_ID: 'acme',
      CORESDK_SIDECAR_SECRET: SECRET,
      // getTokens() below needs the opt-in endpoint.
      CORESDK_SIDECAR_EXPOSE_TOKENS: '1',
    })
  })
  afterAll(async () => {
    for (const sdk of clients) await sdk.close()
    await sidecar?.stop()
    await identity?.close()
  })

  it('needs no jwt settings of its own, and reads its mode, address and secret from the environment', () => {
    const sdk = client()
    expect(sdk.config).toMatchObject({
      mode: 'sidecar',
      sidecarAddr: sidecar.url,
      tenantId: 'acme',
      sidecar: { cacheTtl: 1000, timeout: 1000 },
    })
    expect(() => client({ env: { CORESDK_MODE: 'sidecar', CORESDK_SIDECAR_CACHE_TTL_MS: 'soon' } })).toThrow(
      /CORESDK_SIDECAR_CACHE_TTL_MS/,
    )
  })

  it('authorizes through the sidecar, with problems carrying this service’s realm', async () => {
    const sdk = client()
    const token = await identity.issuer.mint({ sub: 'usr_a', email: 'a@example.com' })
    expect(await sdk.auth().authorize({ token })).toMatchObject({
      allowed: true,
      claims: { sub: 'usr_a', email: 'a@example.com' },
    })
    const refused = await sdk.auth().authorize({ token: `${token}x` })
    expect(refused).toMatchObject({
      allowed: false,
      claims: null,
      problem: { status: 401, body: { code: 'invalid_token' } },
    })
    expect(refused.problem?.headers['www-authenticate']).toMatch(
      /^Bearer realm="my-api", error="invalid_token"/,
    )
    expect(await sdk.auth().authorize({ token: '' })).toMatchObject({
      allowed: false,
      reason: 'missing_token',
    })
  })

  it('authenticates a bearer token into a Session instance, and refuses bad credentials as the embedded engine does', async () => {
    const sdk = client()
    const token = await identity.issuer.mint({ sub: 'usr_b', email: 'b@example.com' })
    const result = await sdk.authenticate({ authorization: bearer(token), userAgent: 'vitest' })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.session).toBeInstanceOf(Session)
    expect(result.session!.isActive()).toBe(true)
    expect(result.session!.expiresAt).toBeInstanceOf(Date)
    expect(result.session).toMatchObject({
      userId: 'usr_b',
      tenantId: 'acme',
      origin: 'token',
      meta: { userAgent: 'vitest' },
    })
    expect(result).toMatchObject({ user: { sub: 'usr_b', email: 'b@example.com' }, degraded: false })

    const missing = await sdk.authenticate({})
    expect(missing).toMatchObject({
      ok: false,
      problem: { status: 401, headers: { 'www-authenticate': 'Bearer realm="my-api"' } },
    })
    expect(await sdk.authenticate({}, { optional: true })).toEqual({
      ok: true,
      user: null,
      session: null,
      degraded: false,
      via: null,
      setCookie: [],
    })
    expect(await sdk.authenticate({ authorization: 'Bearer a b' })).toMatchObject({
      ok: false,
      problem: { status: 400 },
    })
    expect(await sdk.authenticate({ authorization: [bearer(token), bearer(token)] })).toMatchObject({
      ok: false,
      problem: { status: 400 },
    })
  })

  it('finds the session of a provider session (sid) and revokes it; one-time keys are claimed once across clients', async () => {
    const [one, two] = [client(), client()]
    const sid = `op-session-${Date.now()}`
    const login = await one
      .sessions()
      .create({ id_token: await identity.issuer.mint({ sub: 'usr_sid', sid }) })
    const found = await two.sessions().findByProviderSession(sid)
    expect(found).toBeInstanceOf(Session)
    expect(found).toMatchObject({ id: login.id, userId: 'usr_sid' })
    expect(await two.sessions().findByProviderSession('no-such-sid')).toBeNull()
    expect(await two.sessions().findByProviderSession('\uD800')).toBeNull()
    expect(await two.sessions().revoke(found!.id)).toBe(true)
    // Still found once revoked: a logout delivered twice finds the same, already revoked, session.
    expect((await one.sessions().findByProviderSession(sid))?.revokedAt).toBeInstanceOf(Date)

    const key = `logout:${sid}`
    const until = Date.now() + 60_000
    expect(await one.sessions().claimOnce(key, until)).toBe(true)
    expect(await two.sessions().claimOnce(key, until)).toBe(false)
    await expect(one.sessions().claimOnce('', until)).rejects.toMatchObject({ code: 'invalid_request' })
  })

  it('creates, gets, refreshes, lists, reads tokens of and revokes sessions', async () => {
    const sdk = client()
    const idToken = await identity.issuer.mint({ sub: 'usr_c', email: 'c@example.com' })
    const created = await sdk
      .sessions()
      .create({ id_token: idToken, refresh_token: 'rt' }, { userAgent: 'ua', meta: { device: 'laptop' } })
    expect(created).toBeInstanceOf(CreatedSession)
    expect(created.secret.length).toBeGreaterThanOrEqual(22)
    expect(created.setCookie).toMatch(
      new RegExp(`^${sdk.config.sessions.cookie.name}=${created.id}\\.${created.secret};`),
    )
    expect(created.meta).toEqual({ userAgent: 'ua', device: 'laptop' })
    expect(JSON.stringify(created)).not.toContain(created.secret)

    const got = await sdk.sessions().get(created.id)
    expect(got).toBeInstanceOf(Session)
    expect(got).toMatchObject({ id: created.id, userId: 'usr_c', origin: 'login' })
    expect(got!.absoluteExpiresAt.getTime()).toBe(created.absoluteExpiresAt.getTime())
    expect(await sdk.sessions().get('sess_01HX7KQMB4ABCDEFGHJKMNPQRS')).toBeNull()
    expect(await sdk.sessions().get('not-an-id')).toBeNull()
    expect(await sdk.sessions().getTokens(created.id)).toMatchObject({ idToken, refreshToken: 'rt' })

    const cookie = { cookie: created.setCookie.split(';')[0]! }
    expect(await sdk.authenticate(cookie)).toMatchObject({
      ok: true,
      session: { id: created.id },
      user: { sub: 'usr_c' },
    })
    const refreshed = await sdk.sessions().refresh(created.id)
    expect(refreshed).toBeInstanceOf(Session)
    expect(refreshed.lastSeenAt.getTime()).toBeGreaterThanOrEqual(created.lastSeenAt.getTime())
    await expect(sdk.sessions().refresh('sess_01HX7KQMB4ABCDEFGHJKMNPQRS')).rejects.toMatchObject({
      code: 'session_not_found',
      status: 404,
    })

    const listed = await sdk.sessions().listForUser('usr_c')
    expect(listed.map((s) => s.id)).toEqual([created.id])
    expect(listed[0]).toBeInstanceOf(Session)

    expect(await sdk.sessions().revoke(created.id)).toBe(true)
    expect(await sdk.sessions().revoke(created.id)).toBe(true)
    expect(await sdk.sessions().revoke('sess_01HX7KQMB4ABCDEFGHJKMNPQRS')).toBe(false)
    expect((await sdk.sessions().get(created.id))!.isActive()).toBe(false)
    expect(await sdk.sessions().listForUser('usr_c')).toEqual([])
    expect(await sdk.sessions().listForUser('usr_c', { includeInactive: true })).toHaveLength(1)
    expect(await sdk.authenticate(cookie)).toMatchObject({
      ok: false,
      problem: { body: { code: 'invalid_token' } },
    })
    await expect(sdk.sessions().create({ id_token: `${idToken}x` })).rejects.toBeInstanceOf(CoreSDKError)
  })

  it('revokes all of a user’s sessions, and a revocation through this client takes effect at once despite the cache', async () => {
    const sdk = client({ sidecar: { cacheTtl: 60_000 } })
    const first = await identity.issuer.mint({ sub: 'usr_d', jti: 'd-1' })
    const second = await identity.issuer.mint({ sub: 'usr_d', jti: 'd-2' })
    const a = await sdk.authenticate({ authorization: bearer(first) })
    const b = await sdk.authenticate({ authorization: bearer(second) })
    expect(a.ok && b.ok).toBe(true)
    // Cached now for a minute; the revocation below must still win at once.
    expect((await sdk.authenticate({ authorization: bearer(first) })).ok).toBe(true)
    if (!a.ok) return
    expect(await sdk.sessions().revoke(a.session!.id)).toBe(true)
    expect(await sdk.authenticate({ authorization: bearer(first) })).toMatchObject({
      ok: false,
      problem: { body: { code: 'invalid_token' } },
    })
    expect((await sdk.authenticate({ authorization: bearer(second) })).ok).toBe(true)
    expect(await sdk.sessions().revokeForUser('usr_d')).toBe(1)
    expect(await sdk.authenticate({ authorization: bearer(second) })).toMatchObject({
      ok: false,
      problem: { status: 401 },
    })
  })

  it('logs out through the sidecar: the cookie-clearing header comes back and the token is refused at once', async () => {
    const sdk = client({ sidecar: { cacheTtl: 60_000 } })
    const token = await identity.issuer.mint({ sub: 'usr_e', jti: 'e-1' })
    const result = await sdk.authenticate({ authorization: bearer(token) })
    if (!result.ok) throw new Error('expected ok')
    const out = await sdk.logout({ session: result.session, user: result.user })
    expect(out.revoked).toBe(1)
    expect(out.setCookie[0]).toMatch(new RegExp(`^${sdk.config.sessions.cookie.name}=;.*Max-Age=0`, 'i'))
    expect((await sdk.authenticate({ authorization: bearer(token) })).ok).toBe(false)

    const other = await identity.issuer.mint({ sub: 'usr_e', jti: 'e-2' })
    const again = await sdk.authenticate({ authorization: bearer(other) })
    if (!again.ok) throw new Error('expected ok')
    expect((await sdk.logout({ session: again.session, user: again.user, everywhere: true })).revoked).toBe(1)
    expect((await sdk.authenticate({ authorization: bearer(other) })).ok).toBe(false)
  })

  it('bounds revocation staleness by sidecar.cacheTtl for revocations made through another client', async () => {
    const cacheTtl = 1000
    const app = client()
    expect(app.config.sidecar.cacheTtl).toBe(cacheTtl)
    const admin = client({ sidecar: { cacheTtl: 0 } })
    const token = await identity.issuer.mint({ sub: 'usr_f', jti: 'f-1' })
    const first = await app.authenticate({ authorization: bearer(token) })
    if (!first.ok) throw new Error('expected ok')
    expect(await admin.sessions().revoke(first.session!.id)).toBe(true)
    const revokedAt = Date.now()
    // Within the TTL the cached answer still passes: that is the documented staleness …
    expect((await app.authenticate({ authorization: bearer(token) })).ok).toBe(true)
    // … and once it has passed, the revocation holds.
    await new Promise((resolve) => setTimeout(resolve, cacheTtl + 50))
    expect(Date.now() - revokedAt).toBeGreaterThan(cacheTtl)
    expect(await app.authenticate({ authorization: bearer(token) })).toMatchObject({
      ok: false,
      problem: { body: { code: 'invalid_token' } },
    })
    // With the cache off, the next request already sees it.
    const other = await identity.issuer.mint({ sub: 'usr_f', jti: 'f-2' })
    const second = await admin.authenticate({ authorization: bearer(other) })
    if (!second.ok) throw new Error('expected ok')
    expect(await app.sessions().revoke(second.session!.id)).toBe(true)
    expect((await admin.authenticate({ authorization: bearer(other) })).ok).toBe(false)
  })

  it('tells a misconfigured client what to fix: wrong secret, wrong tenant', async () => {
    const wrongSecret = client({ sidecarSecret: 'not-the-secret-but-just-as-long-0123456789' })
    await expect(wrongSecret.sessions().listForUser('usr_a')).rejects.toThrow(/CORESDK_SIDECAR_SECRET/)
    const token = await identity.issuer.mint({ sub: 'usr_g' })
    // Not a 401 for the end user: the service itself is misconfigured.
    expect(await wrongSecret.authenticate({ authorization: bearer(token) })).toMatchObject({
      ok: false,
      problem: { status: 500, body: { code: 'invalid_config' } },
    })
    const wrongTenant = client({ tenantId: 'globex' })
    await expect(wrongTenant.sessions().listForUser('usr_a')).rejects.toThrow(/CORESDK_TENANT_ID/)
  })
})
