import { describe, expect, it } from 'vitest'
import { createAdapterKit, defineAdapter, type RequestAuth, type RouteResponse } from '../src/adapter.ts'
import { MemorySessionStore } from '../src/index.ts'
import { hsClient, hsToken } from './helpers.ts'

// The warm path answers without a promise; these cases prove it gives the same answers as the awaited one.
const request = (authorization: string, method = 'GET') => ({
  method,
  url: '/api/me',
  headers: ['Host', 'api.test', 'Authorization', authorization],
})

describe('the warm path', () => {
  it('answers a token seen before, whose session is held here, without a promise, and the same way each time', async () => {
    const sdk = hsClient()
    const kit = createAdapterKit(sdk)
    const token = await hsToken({ sid: 'idp-1' })
    const cold = kit.handle(request(`Bearer ${token}`))
    expect(cold).toBeInstanceOf(Promise)
    const first = await cold
    const warm = kit.handle(request(`Bearer ${token}`))
    expect(warm).not.toBeInstanceOf(Promise)
    expect(warm).toEqual(first)
    if (!first.next || warm instanceof Promise || !warm.next) throw new Error('refused')
    expect(warm.auth.user).toEqual(first.auth.user)
    expect(warm.auth.session?.id).toBe(first.auth.session?.id)
    expect(Object.isFrozen(warm.auth)).toBe(true)
    expect(Object.isFrozen(warm.auth.session)).toBe(true)
    await sdk.close()
  })

  it('refuses a warm token at once after its session is revoked, and after a revoke-all', async () => {
    const sdk = hsClient()
    const kit = createAdapterKit(sdk)
    const token = await hsToken({ sid: 'idp-2' })
    const first = await kit.handle(request(`Bearer ${token}`))
    if (!first.next || first.auth.session === null) throw new Error('refused')
    await sdk.sessions().revoke(first.auth.session.id)
    const after = kit.handle(request(`Bearer ${token}`))
    expect(after).not.toBeInstanceOf(Promise)
    expect(after).toMatchObject({ next: false, problem: { status: 401, body: { code: 'invalid_token' } } })

    const other = await hsToken({ sub: 'usr_2', sid: 'idp-3' })
    expect(await kit.handle(request(`Bearer ${other}`))).toMatchObject({ next: true })
    expect(kit.handle(request(`Bearer ${other}`))).toMatchObject({ next: true })
    await sdk.sessions().revokeAllForUser('usr_2')
    expect(await kit.handle(request(`Bearer ${other}`))).toMatchObject({
      next: false,
      problem: { body: { code: 'invalid_token' } },
    })
    await sdk.close()
  })

  it('sees a revocation written by another client on the same store', async () => {
    const store = new MemorySessionStore()
    const a = hsClient({ sessions: { store } })
    const b = hsClient({ sessions: { store } })
    const kit = createAdapterKit(a)
    const token = await hsToken({ sid: 'idp-4' })
    const first = await kit.handle(request(`Bearer ${token}`))
    if (!first.next || first.auth.session === null) throw new Error('refused')
    expect(kit.handle(request(`Bearer ${token}`))).toMatchObject({ next: true })
    await b.sessions().revoke(first.auth.session.id)
    expect(await kit.handle(request(`Bearer ${token}`))).toMatchObject({ next: false })
    await a.close()
    await b.close()
  })

  it('still refuses a cached token spelled with whitespace in its signature, as the full parse does', async () => {
    const sdk = hsClient()
    const kit = createAdapterKit(sdk)
    const token = await hsToken({ sid: 'idp-5' })
    // The provider session's session exists: a spaced spelling of the token would find it warm.
    expect(await kit.handle(request(`Bearer ${token}`))).toMatchObject({ next: true })
    // Base64 decoding skips whitespace: the spaced token verifies (through authorize) and is cached.
    const spaced = `${token.slice(0, -4)} ${token.slice(-4)}`
    expect((await sdk.auth().authorize({ token: spaced })).allowed).toBe(true)
    const tabbed = `${token.slice(0, -4)}\t${token.slice(-4)}`
    expect((await sdk.auth().authorize({ token: tabbed })).allowed).toBe(true)
    for (const value of [`Bearer ${spaced}`, `Bearer ${tabbed}`]) {
      expect(await kit.handle(request(value))).toMatchObject({
        next: false,
        problem: { status: 400, body: { code: 'invalid_request' } },
      })
    }
    await sdk.close()
  })

  it('a token that shares the verify cache key of a cached one (its last characters) is verified, and refused', async () => {
    const sdk = hsClient()
    const kit = createAdapterKit(sdk)
    const token = await hsToken({ sid: 'idp-6' })
    expect(await kit.handle(request(`Bearer ${token}`))).toMatchObject({ next: true })
    const [header, , signature] = token.split('.')
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${signature}`
    expect(forged.slice(-24)).toBe(token.slice(-24))
    expect(await kit.handle(request(`Bearer ${forged}`))).toMatchObject({
      next: false,
      problem: { status: 401, body: { code: 'invalid_token' } },
    })
    // The valid token is still answered from the cache.
    expect(kit.handle(request(`Bearer ${token}`))).toMatchObject({ next: true })
    await sdk.close()
  })

  it('a cookie-authenticated POST from another origin is still refused when the session is warm', async () => {
    const sdk = hsClient()
    const kit = createAdapterKit(sdk)
    const created = await sdk.sessions().create({ id_token: await hsToken({ sid: 'idp-7' }) })
    const cookie = created.setCookie.split(';')[0]!
    const headers = ['Host', 'api.test', 'Cookie', cookie, 'Origin', 'https://evil.test']
    for (let i = 0; i < 2; i++) {
      expect(await kit.handle({ method: 'POST', url: '/api/x', headers })).toMatchObject({
        next: false,
        problem: { status: 403, body: { code: 'csrf_failed' } },
      })
    }
    await sdk.close()
  })
})

describe('the warm path through defineAdapter', () => {
  type Req = { headers: string[]; auth?: RequestAuth }
  const passed: RequestAuth[] = []
  const written: RouteResponse[] = []
  const adapter = defineAdapter<Req, null, () => string, string>({
    setup: 'the test middleware',
    request: (req) => ({ method: 'GET', url: '/api/me', headers: req.headers }),
    routeRequest: () => {
      throw new Error('not used')
    },
    auth: (req) => req.auth,
    pass(auth, req, _res, next) {
      req.auth = auth
      passed.push(auth)
      return next()
    },
    cookies: () => {},
    write(answer) {
      written.push(answer)
      return 'written'
    },
  })

  it('goes on in the same turn for a warm token, and after a promise for a cold one', async () => {
    const sdk = hsClient()
    const middleware = adapter.middleware(sdk)
    const token = await hsToken({ sid: 'idp-8' })
    const headers = ['Host', 'api.test', 'Authorization', `Bearer ${token}`]
    const cold = middleware({ headers }, null, () => 'next')
    expect(cold).toBeInstanceOf(Promise)
    expect(await cold).toBe('next')
    // The same turn: the next handler's answer comes back from the middleware itself.
    expect(middleware({ headers }, null, () => 'next')).toBe('next')
    expect(passed).toHaveLength(2)
    expect(passed[1]).toBe(passed[0])
    await sdk.close()
  })

  it('writes the refusal as core’s problem, and names the setup a helper needs when it never ran', async () => {
    const sdk = hsClient()
    const middleware = adapter.middleware(sdk)
    expect(await middleware({ headers: ['Authorization', 'Bearer nope'] }, null, () => 'next')).toBe(
      'written',
    )
    expect(written.at(-1)).toMatchObject({
      status: 401,
      headers: { 'content-type': 'application/problem+json' },
    })
    expect(() => adapter.requireAuth()({ headers: [] }, null, () => 'next')).toThrow(
      'CoreSDK: the test middleware must run before this handler.',
    )
    expect(() => adapter.requireRoles()).toThrow(/at least one non-empty role/)
    await sdk.close()
  })
})
