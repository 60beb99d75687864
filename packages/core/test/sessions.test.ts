import { describe, expect, it, vi } from 'vitest'
import { faultyStore } from '../../testing/src/index.ts'
import { CoreSDKError, MemorySessionStore, type SessionStore, type TokenRefresher } from '../src/index.ts'
import { bearer, hsClient, hsToken, nextSecond } from './helpers.ts'

describe('automatic sessions', () => {
  it('a valid token gets one session, found again on the next request and by another token with the same sid', async () => {
    const sdk = hsClient()
    const first = await sdk.authenticate(bearer(await hsToken({ sid: 'idp-1' })))
    expect(first.ok && first.session?.id).toMatch(/^sess_[0-9A-HJKMNP-TV-Z]{26}$/)
    const again = await sdk.authenticate(
      bearer(await hsToken({ sid: 'idp-1', exp: Math.floor(Date.now() / 1000) + 600 })),
    )
    expect(again.ok && again.session?.id).toBe(first.ok && first.session?.id)
    const session = await sdk.sessions().get(first.ok ? first.session!.id : '')
    expect(session?.userId).toBe('usr_1')
    expect(session?.isActive()).toBe(true)
    await sdk.close()
  })

  it('100 concurrent first requests with one token create exactly one session', async () => {
    const sdk = hsClient()
    const token = await hsToken()
    const results = await Promise.all(Array.from({ length: 100 }, () => sdk.authenticate(bearer(token))))
    const ids = new Set(results.map((r) => (r.ok ? r.session?.id : 'refused')))
    expect(ids.size).toBe(1)
    expect(await sdk.sessions().listForUser('usr_1')).toHaveLength(1)
    await sdk.close()
  })

  it('session ids are time-ordered', async () => {
    const sdk = hsClient()
    const a = await sdk.authenticate(bearer(await hsToken({ jti: 'a' })))
    await new Promise((r) => setTimeout(r, 2))
    const b = await sdk.authenticate(bearer(await hsToken({ jti: 'b' })))
    expect(a.ok && b.ok && a.session!.id < b.session!.id).toBe(true)
    await sdk.close()
  })
})

describe('revocation', () => {
  it('revoking one session rejects its token; the user’s other session keeps working', async () => {
    const sdk = hsClient()
    const phone = await hsToken({ sid: 'phone' })
    const laptop = await hsToken({ sid: 'laptop' })
    const p = await sdk.authenticate(bearer(phone))
    expect((await sdk.authenticate(bearer(laptop))).ok).toBe(true)
    expect(await sdk.sessions().revoke(p.ok ? p.session!.id : '')).toBe(true)
    const refused = await sdk.authenticate(bearer(phone))
    expect(refused.ok).toBe(false)
    if (!refused.ok) {
      expect(refused.problem.status).toBe(401)
      expect(refused.problem.body.code).toBe('invalid_token')
      expect(refused.problem.headers['www-authenticate']).toContain('error="invalid_token"')
    }
    expect((await sdk.authenticate(bearer(laptop))).ok).toBe(true)
    expect(await sdk.sessions().listForUser('usr_1')).toHaveLength(1)
    await sdk.close()
  })

  it('revoke-all rejects every session and every older unseen token of the user; others untouched; a new login works', async () => {
    // No clock tolerance: a token issued in the next second is after the revoke-all (see the clock-ahead case below).
    const sdk = hsClient({ jwt: { clockTolerance: 0 } })
    const seenA = await hsToken({ sid: 'a' })
    const seenB = await hsToken({ sid: 'b' })
    const unseen = await hsToken({ sid: 'never-presented' })
    const other = await hsToken({ sub: 'usr_2', sid: 'other' })
    for (const t of [seenA, seenB, other]) expect((await sdk.authenticate(bearer(t))).ok).toBe(true)

    expect(await sdk.sessions().revokeForUser('usr_1')).toBe(2)

    for (const t of [seenA, seenB, unseen]) expect((await sdk.authenticate(bearer(t))).ok).toBe(false)
    expect((await sdk.authenticate(bearer(other))).ok).toBe(true)
    await nextSecond()
    const fresh = await sdk.authenticate(bearer(await hsToken({ sid: 'after' })))
    expect(fresh.ok).toBe(true)
    await sdk.close()
  })

  it('a session’s token replayed after logout is rejected, and logout clears the cookie', async () => {
    const sdk = hsClient()
    const token = await hsToken()
    const result = await sdk.authenticate(bearer(token))
    if (!result.ok) throw new Error('expected a session')
    const out = await sdk.logout({ session: result.session, user: result.user })
    expect(out.revoked).toBe(1)
    expect(out.setCookie[0]).toMatch(new RegExp(`^${sdk.config.sessions.cookie.name}=; Max-Age=0`))
    expect((await sdk.authenticate(bearer(token))).ok).toBe(false)
    await sdk.close()
  })

  it('a revocation seen on one client is enforced by another client on the same store', async () => {
    const store = new MemorySessionStore()
    const a = hsClient({ sessions: { store } })
    const b = hsClient({ sessions: { store } })
    const token = await hsToken()
    const first = await a.authenticate(bearer(token))
    if (!first.ok) throw new Error('expected a session')
    await b.sessions().revoke(first.session!.id)
    expect((await a.authenticate(bearer(token))).ok).toBe(false)
    await store.close()
  })
})

describe('cookie sessions', () => {
  it('create() verifies the ID token, returns a secret once, and the cookie authenticates', async () => {
    const sdk = hsClient()
    const created = await sdk
      .sessions()
      .create({ id_token: await hsToken({ sub: 'usr_9' }), refresh_token: 'rt-secret-1' })
    expect(created.secret.length).toBeGreaterThanOrEqual(22)
    expect(created.setCookie).toMatch(/HttpOnly/)
    expect(JSON.stringify(created)).not.toContain(created.secret)
    const cookie = created.setCookie.split(';')[0]!
    const result = await sdk.authenticate({ cookie })
    expect(result.ok && result.user?.sub).toBe('usr_9')
    expect(result.ok && result.session?.id).toBe(created.id)
    await sdk.close()
  })

  it('a wrong secret, a revoked session or garbage is refused and the cookie cleared', async () => {
    const sdk = hsClient()
    const created = await sdk.sessions().create({ id_token: await hsToken() })
    const name = sdk.config.sessions.cookie.name
    const wrong = await sdk.authenticate({ cookie: `${name}=${created.id}.${'A'.repeat(43)}` })
    expect(wrong.ok).toBe(false)
    expect(wrong.setCookie[0]).toMatch(/Max-Age=0/)
    expect((await sdk.authenticate({ cookie: `${name}=nonsense` })).ok).toBe(false)
    await sdk.sessions().revoke(created.id)
    expect((await sdk.authenticate({ cookie: created.setCookie.split(';')[0]! })).ok).toBe(false)
    await sdk.close()
  })

  it('each login gets a new secret (no fixation), even for the same provider session', async () => {
    const sdk = hsClient()
    const idToken = await hsToken({ sid: 'idp-session' })
    const one = await sdk.sessions().create({ id_token: idToken })
    const two = await sdk.sessions().create({ id_token: idToken })
    expect(two.secret).not.toBe(one.secret)
    expect((await sdk.authenticate({ cookie: one.setCookie.split(';')[0]! })).ok).toBe(false)
    expect((await sdk.authenticate({ cookie: two.setCookie.split(';')[0]! })).ok).toBe(true)
    await sdk.close()
  })

  it('an idle session expires', async () => {
    const sdk = hsClient({ sessions: { idleTimeout: 1, absoluteTimeout: 60 } })
    const created = await sdk.sessions().create({ id_token: await hsToken() })
    await new Promise((r) => setTimeout(r, 1100))
    const result = await sdk.authenticate({ cookie: created.setCookie.split(';')[0]! })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.problem.body.code).toBe('token_expired')
    await sdk.close()
  })

  it('lastSeenAt is written at most once per touch interval, not once per request', async () => {
    const inner = new MemorySessionStore()
    const update = vi.spyOn(inner, 'update')
    const sdk = hsClient({ sessions: { store: inner, touchInterval: 60 } })
    const created = await sdk.sessions().create({ id_token: await hsToken() })
    const cookie = created.setCookie.split(';')[0]!
    for (let i = 0; i < 50; i++) expect((await sdk.authenticate({ cookie })).ok).toBe(true)
    expect(update).toHaveBeenCalledTimes(0)
    const eager = hsClient({ sessions: { store: inner, touchInterval: 0 } })
    for (let i = 0; i < 5; i++) await eager.authenticate({ cookie })
    await new Promise((r) => setTimeout(r, 10))
    expect(update.mock.calls.length).toBeGreaterThan(0)
    await inner.close()
  })

  it('a dump of the store holds no cookie secret and no refresh token in the clear', async () => {
    const store = new MemorySessionStore()
    const sdk = hsClient({ sessions: { store } })
    const created = await sdk.sessions().create({
      id_token: await hsToken(),
      access_token: 'access-token-value-123',
      refresh_token: 'refresh-token-value-456',
    })
    const dump = JSON.stringify(store.dump())
    expect(dump).not.toContain(created.secret)
    expect(dump).not.toContain('refresh-token-value-456')
    expect(dump).not.toContain('access-token-value-123')
    expect((await sdk.sessions().getTokens(created.id))?.refreshToken).toBe('refresh-token-value-456')
    await store.close()
  })
})

describe('refresh', () => {
  it('slides the idle expiry, never past the absolute lifetime', async () => {
    const sdk = hsClient({ sessions: { idleTimeout: 2, absoluteTimeout: 3 } })
    const created = await sdk.sessions().create({ id_token: await hsToken() })
    await new Promise((r) => setTimeout(r, 1100))
    const renewed = await sdk.sessions().refresh(created.id)
    expect(renewed.expiresAt.getTime()).toBeGreaterThan(created.expiresAt.getTime())
    expect(renewed.expiresAt.getTime()).toBeLessThanOrEqual(created.absoluteExpiresAt.getTime())
    await sdk.close()
  })

  it('rotates tokens through the refresher, one call for concurrent refreshes; invalid_grant revokes', async () => {
    let calls = 0
    let valid = true
    const refresher: TokenRefresher = {
      async refresh(refreshToken) {
        calls++
        await new Promise((r) => setTimeout(r, 20))
        if (!valid) throw new CoreSDKError('refresh_token_invalid')
        return { access_token: `at-${calls}`, refresh_token: `${refreshToken}-next` }
      },
    }
    const sdk = hsClient({ sessions: { tokenRefresher: refresher } })
    const created = await sdk.sessions().create({ id_token: await hsToken(), refresh_token: 'rt0' })
    await Promise.all(Array.from({ length: 10 }, () => sdk.sessions().refresh(created.id)))
    expect(calls).toBe(1)
    expect(await sdk.sessions().getTokens(created.id)).toMatchObject({
      accessToken: 'at-1',
      refreshToken: 'rt0-next',
    })
    valid = false
    await expect(sdk.sessions().refresh(created.id)).rejects.toMatchObject({ code: 'refresh_token_invalid' })
    expect((await sdk.sessions().get(created.id))?.isActive()).toBe(false)
    await sdk.close()
  })
})

describe('tenants', () => {
  it('a client of tenant B never sees tenant A’s sessions', async () => {
    const store = new MemorySessionStore()
    const acme = hsClient({ tenantId: 'acme', sessions: { store } })
    const globex = hsClient({ tenantId: 'globex', sessions: { store } })
    const result = await acme.authenticate(bearer(await hsToken()))
    if (!result.ok) throw new Error('expected a session')
    expect(await globex.sessions().get(result.session!.id)).toBeNull()
    expect(await globex.sessions().listForUser('usr_1')).toHaveLength(0)
    expect(await globex.sessions().revoke(result.session!.id)).toBe(false)
    await globex.sessions().revokeAllForUser('usr_1')
    expect((await acme.sessions().get(result.session!.id))?.isActive()).toBe(true)
    await store.close()
  })
})

describe('fail mode with a store that never answers', () => {
  function silentSetup(failMode: 'open' | 'closed') {
    const store = faultyStore(new MemorySessionStore())
    const sdk = hsClient({ failMode, sessions: { store: store as SessionStore, storeTimeout: 150 } })
    return { store, sdk }
  }

  it('closed: 503 with Retry-After, within the store deadline', async () => {
    const { store, sdk } = silentSetup('closed')
    store.setMode('silent')
    const started = Date.now()
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => sdk.authenticate(bearer(await hsToken()))),
    )
    expect(Date.now() - started).toBeLessThan(1000)
    for (const r of results) {
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.problem.status).toBe(503)
        expect(r.problem.headers['retry-after']).toBeDefined()
        expect(r.problem.body.code).toBe('store_unavailable')
      }
    }
  })

  it('open: a verified token passes degraded; a revocation this instance knows stays enforced; a cookie gets 503', async () => {
    const { store, sdk } = silentSetup('open')
    const revokedToken = await hsToken({ sid: 'revoked-one' })
    const seen = await sdk.authenticate(bearer(revokedToken))
    const created = await sdk.sessions().create({ id_token: await hsToken({ sub: 'usr_cookie' }) })
    await sdk.sessions().revoke(seen.ok ? seen.session!.id : '')
    store.setMode('silent')

    const started = Date.now()
    const degraded = await sdk.authenticate(bearer(await hsToken({ sid: 'fresh' })))
    expect(Date.now() - started).toBeLessThan(1000)
    expect(degraded).toMatchObject({ ok: true, degraded: true, session: null })
    expect(degraded.ok && degraded.user?.sub).toBe('usr_1')

    expect((await sdk.authenticate(bearer(revokedToken))).ok).toBe(false)
    const cookie = await sdk.authenticate({ cookie: created.setCookie.split(';')[0]! })
    expect(!cookie.ok && cookie.problem.status).toBe(503)
    await expect(sdk.sessions().revoke(created.id)).rejects.toMatchObject({ code: 'store_unavailable' })
  })
})
