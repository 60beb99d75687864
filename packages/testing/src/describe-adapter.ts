import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { CoreSDKClient, type CoreSDKErrorCode, MemorySessionStore, type TrustProxy } from '@coresdk/core'
import { problemFor } from '@coresdk/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FaultyStore, faultyStore } from './faulty-store.ts'
import { type AdapterServer, type RecordedResponse, rawRequest } from './http.ts'
import { startJwksServer } from './jwks-server.ts'
import { TestIssuer } from './mint.ts'
import { ensureRedis, type RedisService } from './services.ts'

/** `jwt.clockTolerance` when unset, in seconds: the apps under test run with the default. */
const DEFAULT_CLOCK_TOLERANCE = 5

/**
 * A token from a login after a revoke-all. Its issue time must lie beyond the clock tolerance past the revoke-all
 * (within it, the issuer's clock may run ahead, so the token may predate the revoke-all); here the issuer runs the
 * whole tolerance ahead, and the login happens in the second after the revoke-all.
 */
async function mintAfterRevokeAll(identity: TestIdentity, claims: Record<string, unknown>): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5))
  return identity.mint(claims, { now: Math.floor(Date.now() / 1000) + DEFAULT_CLOCK_TOLERANCE })
}

/**
 * Starts a real HTTP server on an ephemeral port running the adapter with `sdk`, serving the adapter contract:
 * - `GET /health`: 200, public;
 * - `GET /api/me`: 200 `{ sub, email, session_id, degraded }` (`session_id` null without a session);
 * - `GET /api/sessions`: 200 `{ sessions: Session[] }`, the caller's active sessions (`Session.toJSON()`);
 * - `DELETE /api/sessions/:id`: 204 when it revoked one of the caller's sessions, else the 404 problem
 *   `problemFor('session_not_found')`;
 * - `POST /auth/logout`, `POST /auth/logout-all` and `POST /auth/logout-others`: the adapter's logout helper (with
 *   `everywhere`, with `others`), 204;
 * - a `CoreSDKError` thrown by a route (the store down) answered with core's problem: the adapter's error handler.
 */
export type StartAdapter = (sdk: CoreSDKClient) => Promise<AdapterServer>

/** Options of {@link describeAdapter}. */
export interface DescribeAdapterOptions {
  /** The deadline of the faulty store's calls in the fail-mode cases, in ms. @default 200 */
  storeTimeout?: number
  /** How much later than the store deadline a fail-mode answer may come, in ms. @default 1500 */
  deadlineMargin?: number
  /**
   * Where the suite gets the clients it hands to the adapter. @default embedded clients, sessions in a
   * `MemorySessionStore` (wrapped in a `faultyStore` for the fail-mode cases)
   */
  clients?: SuiteClients
}

/** What the suite asks a {@link SuiteClients} factory for: one client of its issuer, realm and tenant. */
export interface SuiteClientRequest {
  /** The realm of every problem the suite expects. */
  serviceName: string
  tenantId: string
  /** The suite's issuer; its JWKS is served over HTTP on 127.0.0.1. */
  jwt: { issuer: string; audience: string; algorithms: ['RS256']; jwksUri: string }
  /** The fail mode to configure; undefined keeps the configuration's default. */
  failMode?: 'closed' | 'open'
  /** The deadline of the calls the client waits on (the session store, or the sidecar), in ms. */
  timeout?: number
  /** The client's `trustProxy` setting; undefined keeps the default (no proxy is trusted). */
  trustProxy?: TrustProxy
  /** `silent-store`: a client whose backend {@link SuiteClient.setSilent} can make never answer. */
  mode: 'normal' | 'silent-store'
}

/** A client made for the suite, and the handles the fail-mode cases need. */
export interface SuiteClient {
  sdk: CoreSDKClient
  /** Makes the backend the client waits on (its session store, or its sidecar) stop answering, or answer again. */
  setSilent?(silent: boolean): void
  /** How many calls the silent backend swallowed, when it can tell (proof that the silence was reached). */
  pending?(): number
  /** The problem code a request gets while the backend is silent. @default 'store_unavailable' */
  unavailableCode?: CoreSDKErrorCode
  /** Closes the client and whatever was started for it. */
  close(): Promise<void>
}

/** Makes the clients of {@link describeAdapter}: embedded by default, or e.g. in sidecar mode against a process. */
export interface SuiteClients {
  create(request: SuiteClientRequest): Promise<SuiteClient>
  /** What `setSilent` silences, as the fail-mode cases' titles name it. @default 'session store' */
  silentBackend?: string
}

const REALM = 'adapter-suite'
/** The session cookie's name by default (`sessions.cookie.secure` on, host-only, `Path=/`). */
const DEFAULT_COOKIE = '__Host-coresdk_session'
const PROBLEM_HEADERS = ['content-type', 'cache-control', 'www-authenticate', 'retry-after'] as const

/** Asserts an answer is exactly core's problem for `code`: status, the headers that matter, and the body. */
export function expectProblem(response: RecordedResponse, code: CoreSDKErrorCode, realm = REALM): void {
  const expected = problemFor(code, { realm })
  expect({ status: response.status, code: JSON.parse(response.body).code }).toEqual({
    status: expected.status,
    code,
  })
  expect(JSON.parse(response.body)).toEqual(expected.body)
  for (const name of PROBLEM_HEADERS) expect(response.headers[name], name).toBe(expected.headers[name])
}

/**
 * Asserts an app's error handler answers what its routes threw with core's problems in `realm`: `/unavailable`
 * throws `store_unavailable` (503, `Retry-After`), `/missing` throws `session_not_found` (404).
 * @example
 * await expectThrownProblems((path) => rawRequest(url, 'GET', path), 'errors-api')
 */
export async function expectThrownProblems(
  get: (path: '/unavailable' | '/missing') => Promise<RecordedResponse>,
  realm: string,
): Promise<void> {
  expectProblem(await get('/unavailable'), 'store_unavailable', realm)
  expectProblem(await get('/missing'), 'session_not_found', realm)
}

interface TestIdentity {
  issuer: string
  audience: string
  jwksUrl: string
  /** Mints a token with a unique `jti` (one session each); `now` moves its `iat` (and its `exp`, five minutes later). */
  mint(claims: Record<string, unknown>, options?: { now?: number; expiresIn?: number }): Promise<string>
  /** Mints a token signed by another key under the same `kid`. */
  mintBadSignature(claims: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

async function startTestIdentity(): Promise<TestIdentity> {
  const issuer = await TestIssuer.create({ issuer: 'https://issuer.suite.test/', audience: 'suite-api' })
  const impostor = await TestIssuer.create({
    issuer: issuer.issuer,
    audience: issuer.audience,
    kid: issuer.keys.kid,
  })
  const jwks = await startJwksServer({ keys: [issuer.keys] })
  let counter = 0
  const jti = () => `jti-${Date.now()}-${++counter}`
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUrl: jwks.jwksUrl,
    mint: (claims, options = {}) => issuer.mint({ jti: jti(), ...claims }, options),
    mintBadSignature: (claims) => impostor.mint({ jti: jti(), ...claims }),
    close: () => jwks.close(),
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

// The suite's clients share their stores, so they share the key that seals OAuth tokens, as instances must.
const SUITE_ENCRYPTION_KEY = crypto.getRandomValues(new Uint8Array(32))

function embeddedClient(
  request: SuiteClientRequest,
  store: MemorySessionStore | FaultyStore,
  extra: object = {},
): CoreSDKClient {
  return new CoreSDKClient({
    serviceName: request.serviceName,
    tenantId: request.tenantId,
    env: {},
    jwt: request.jwt,
    sessions: { store, encryptionKey: SUITE_ENCRYPTION_KEY },
    ...extra,
  })
}

/** The default {@link SuiteClients}: embedded clients with sessions in memory, behind a faulty store when asked. */
export const embeddedSuiteClients: SuiteClients = {
  async create(request) {
    if (request.mode === 'normal') {
      const sdk = embeddedClient(request, new MemorySessionStore(), {
        ...(request.failMode === undefined ? {} : { failMode: request.failMode }),
        ...(request.trustProxy === undefined ? {} : { trustProxy: request.trustProxy }),
      })
      return { sdk, close: () => sdk.close() }
    }
    const store = faultyStore(new MemorySessionStore())
    const sdk = embeddedClient(request, store, {
      failMode: request.failMode,
      sessions: { store, storeTimeout: request.timeout },
    })
    return {
      sdk,
      setSilent: (silent) => store.setMode(silent ? 'silent' : 'ok'),
      pending: () => store.pending,
      unavailableCode: 'store_unavailable',
      close: () => sdk.close(),
    }
  },
}

/**
 * The adapter conformance suite: runs the same HTTP scenarios against an adapter and checks that every status,
 * problem body and header is exactly core's, so all adapters answer alike.
 * @example
 * describeAdapter('express', async (sdk) => {
 *   const server = createApp(sdk).listen(0, '127.0.0.1')
 *   await once(server, 'listening')
 *   return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closeServer(server) }
 * })
 */
export function describeAdapter(
  name: string,
  start: StartAdapter,
  options: DescribeAdapterOptions = {},
): void {
  const storeTimeout = options.storeTimeout ?? 200
  const margin = options.deadlineMargin ?? 1500
  const clients = options.clients ?? embeddedSuiteClients

  describe(`adapter conformance: ${name}`, () => {
    let identity: TestIdentity
    let client: SuiteClient
    let sdk: CoreSDKClient
    let app: AdapterServer
    const clientRequest = (
      mode: SuiteClientRequest['mode'],
      extra: Pick<SuiteClientRequest, 'failMode' | 'timeout'> = {},
    ): SuiteClientRequest => ({
      serviceName: REALM,
      tenantId: 'suite',
      jwt: {
        issuer: identity.issuer,
        audience: identity.audience,
        algorithms: ['RS256'],
        jwksUri: identity.jwksUrl,
      },
      mode,
      ...extra,
    })
    const get = (path: string, headers?: Record<string, string | string[]>) =>
      rawRequest(app.url, 'GET', path, headers)
    const post = (path: string, headers?: Record<string, string | string[]>) =>
      rawRequest(app.url, 'POST', path, headers)
    const me = (token: string) => get('/api/me', bearer(token))
    /** The session cookie's name, as the client under test has it. */
    const cookieName = () => sdk.config.sessions.cookie.name
    const cleared = () => new RegExp(`^${cookieName()}=;.*Max-Age=0`, 'i')

    beforeAll(async () => {
      identity = await startTestIdentity()
      client = await clients.create(clientRequest('normal'))
      sdk = client.sdk
      app = await start(sdk)
    })
    afterAll(async () => {
      await app?.close()
      await client?.close()
      await identity?.close()
    })

    it('serves a public route without a credential', async () => {
      const response = await get('/health')
      expect(response.status).toBe(200)
    })

    it('answers a request without a credential with the 401 problem and a bare Bearer challenge', async () => {
      const response = await get('/api/me')
      expectProblem(response, 'missing_credentials')
      expect(response.headers['www-authenticate']).toBe(`Bearer realm="${REALM}"`)
    })

    it('puts the verified claims on the request for a valid token', async () => {
      const response = await me(await identity.mint({ sub: 'usr_valid', email: 'valid@example.com' }))
      expect(response.status).toBe(200)
      const body = JSON.parse(response.body)
      expect(body).toMatchObject({ sub: 'usr_valid', email: 'valid@example.com', degraded: false })
      expect(body.session_id).toMatch(/^sess_[0-9A-HJKMNP-TV-Z]{26}$/)
    })

    it('refuses an expired token with the token_expired problem', async () => {
      const now = Math.floor(Date.now() / 1000)
      const token = await identity.mint({ sub: 'usr_expired' }, { now: now - 3600, expiresIn: 600 })
      const response = await me(token)
      expectProblem(response, 'token_expired')
      expect(response.body).not.toContain(token)
    })

    it('refuses a token with a bad signature with the invalid_token problem', async () => {
      const token = await identity.mintBadSignature({ sub: 'usr_forged' })
      const response = await me(token)
      expectProblem(response, 'invalid_token')
      expect(response.body).not.toContain('usr_forged')
    })

    it('refuses a malformed Bearer header, and more than one Authorization header, with 400 invalid_request', async () => {
      expectProblem(await get('/api/me', { authorization: 'Bearer a b' }), 'invalid_request')
      const token = await identity.mint({ sub: 'usr_two_headers' })
      // Node folds repeated Authorization headers into the first: only the raw headers show the second.
      expectProblem(
        await get('/api/me', { authorization: [`Bearer ${token}`, 'Bearer forged'] }),
        'invalid_request',
      )
      expectProblem(
        await get('/api/me', { authorization: [`Bearer ${token}`, `Bearer ${token}`] }),
        'invalid_request',
      )
    })

    it('leaves an Authorization header of another scheme alone: a session cookie still authenticates', async () => {
      const basic = { authorization: 'Basic dXNlcjpwYXNz' }
      expectProblem(await get('/api/me', basic), 'missing_credentials')
      const created = await sdk
        .sessions()
        .create({ id_token: await identity.mint({ sub: 'usr_basic_proxy' }) })
      const withCookie = await get('/api/me', { ...basic, cookie: created.setCookie.split(';')[0]! })
      expect(withCookie.status).toBe(200)
      expect(JSON.parse(withCookie.body).sub).toBe('usr_basic_proxy')
    })

    it('with several session cookies (one planted by a subdomain), the valid one wins and none is cleared', async () => {
      const created = await sdk.sessions().create({ id_token: await identity.mint({ sub: 'usr_siblings' }) })
      const valid = created.setCookie.split(';')[0]!
      const planted = `${cookieName()}=${created.id}.${'A'.repeat(43)}`
      for (const cookie of [
        `${planted}; ${valid}`,
        `${valid}; ${planted}`,
        `${planted}; other=1; ${valid}`,
      ]) {
        const response = await get('/api/me', { cookie })
        expect(response.status, cookie).toBe(200)
        expect(response.headers['set-cookie']).toBeUndefined()
      }
      // Only bad siblings: refused, and still no cookie cleared (it might not be ours).
      const bad = await get('/api/me', { cookie: `${planted}; ${cookieName()}=garbage` })
      expect(bad.status).toBe(401)
      expect((await get('/api/me', { cookie: valid })).status).toBe(200)
    })

    it('names the session cookie __Host- by default: a login sets it Secure, on Path=/, without Domain', async () => {
      expect(cookieName()).toBe(DEFAULT_COOKIE)
      const created = await sdk.sessions().create({ id_token: await identity.mint({ sub: 'usr_prefix' }) })
      const attributes = (line: string) => line.split(';').map((part) => part.trim().toLowerCase())
      const set = attributes(created.setCookie)
      expect(set[0]!.startsWith(`${DEFAULT_COOKIE.toLowerCase()}=${created.id.toLowerCase()}.`)).toBe(true)
      expect(set).toEqual(expect.arrayContaining(['secure', 'path=/', 'httponly']))
      expect(set.some((attribute) => attribute.startsWith('domain'))).toBe(false)
      // The cookie the adapter clears at logout carries the same name and attributes.
      const logout = await post('/auth/logout', { cookie: created.setCookie.split(';')[0]! })
      expect(logout.status).toBe(204)
      const clear = attributes(logout.headers['set-cookie']!)
      expect(clear[0]).toBe(`${DEFAULT_COOKIE.toLowerCase()}=`)
      expect(clear).toEqual(expect.arrayContaining(['secure', 'path=/', 'max-age=0']))
      expect(clear.some((attribute) => attribute.startsWith('domain'))).toBe(false)
    })

    it('does not take a cookie under the plain name for the __Host- one (a subdomain can plant the plain name)', async () => {
      const created = await sdk.sessions().create({ id_token: await identity.mint({ sub: 'usr_plain' }) })
      const value = created.setCookie.split(';')[0]!.slice(`${cookieName()}=`.length)
      for (const name of ['coresdk_session', '__host-coresdk_session', '__Secure-coresdk_session']) {
        const response = await get('/api/me', { cookie: `${name}=${value}` })
        expectProblem(response, 'missing_credentials')
        expect(response.headers['set-cookie'], name).toBeUndefined()
      }
      // The same value under the configured name is the session.
      expect((await get('/api/me', { cookie: `${cookieName()}=${value}` })).status).toBe(200)
    })

    it('refuses a cookie-authenticated POST or DELETE from another origin (403 csrf_failed); bearer requests are unaffected', async () => {
      const created = await sdk.sessions().create({ id_token: await identity.mint({ sub: 'usr_csrf' }) })
      const cookie = created.setCookie.split(';')[0]!
      const host = new URL(app.url).host
      const forged: Array<Record<string, string>> = [
        { cookie, origin: 'https://evil.example' },
        { cookie, origin: 'null' },
        { cookie, 'sec-fetch-site': 'cross-site' },
        { cookie, 'sec-fetch-site': 'same-site' },
      ]
      for (const headers of forged) {
        expectProblem(await post('/auth/logout', headers), 'csrf_failed')
        expectProblem(
          await rawRequest(app.url, 'DELETE', `/api/sessions/${created.id}`, headers),
          'csrf_failed',
        )
      }
      // The forged requests changed nothing.
      expect((await get('/api/me', { cookie, origin: 'https://evil.example' })).status).toBe(200)
      const token = await identity.mint({ sub: 'usr_csrf_bearer' })
      expect((await post('/auth/logout', { ...bearer(token), origin: 'https://evil.example' })).status).toBe(
        204,
      )
      expect((await post('/auth/logout', { cookie, origin: `http://${host}` })).status).toBe(204)
      expectProblem(await get('/api/me', { cookie }), 'invalid_token')
    })

    it('lets a same-origin or origin-less cookie POST through (a browser says same-origin; a non-browser says nothing)', async () => {
      const allowed: Array<Record<string, string>> = [{ 'sec-fetch-site': 'same-origin' }, {}]
      for (const extra of allowed) {
        const created = await sdk
          .sessions()
          .create({ id_token: await identity.mint({ sub: 'usr_same_origin' }) })
        const cookie = created.setCookie.split(';')[0]!
        expect((await post('/auth/logout', { cookie, ...extra })).status).toBe(204)
      }
    })

    it('refuses a token whose session was revoked', async () => {
      const token = await identity.mint({ sub: 'usr_revoked' })
      const first = await me(token)
      expect(first.status).toBe(200)
      expect(await sdk.sessions().revoke(JSON.parse(first.body).session_id)).toBe(true)
      expectProblem(await me(token), 'invalid_token')
    })

    it('logs out: 204, the cookie cleared, and the token replayed afterwards is refused', async () => {
      const token = await identity.mint({ sub: 'usr_logout' })
      expect((await me(token)).status).toBe(200)
      const logout = await post('/auth/logout', bearer(token))
      expect(logout.status).toBe(204)
      expect(logout.headers['set-cookie']).toMatch(cleared())
      expectProblem(await me(token), 'invalid_token')
    })

    it('logs out everywhere: every token issued until then is refused, a later login works, others are untouched', async () => {
      const first = await identity.mint({ sub: 'usr_all' })
      const second = await identity.mint({ sub: 'usr_all' })
      const bystander = await identity.mint({ sub: 'usr_bystander' })
      expect((await me(first)).status).toBe(200)
      expect((await me(second)).status).toBe(200)
      expect((await me(bystander)).status).toBe(200)
      expect((await post('/auth/logout-all', bearer(first))).status).toBe(204)
      expectProblem(await me(first), 'invalid_token')
      expectProblem(await me(second), 'invalid_token')
      // Never seen before, yet issued before the revoke-all: refused too.
      expectProblem(
        await me(await identity.mint({ sub: 'usr_all' }, { now: Math.floor(Date.now() / 1000) - 2 })),
        'invalid_token',
      )
      // The issuer's clock may run up to the clock tolerance (5 s by default) ahead of the server's, so a token whose
      // iat lies within that window after the revoke-all may have been issued before it: refused as well.
      const revokedAt = Math.floor(Date.now() / 1000)
      expectProblem(
        await me(await identity.mint({ sub: 'usr_all' }, { now: revokedAt + 1 })),
        'invalid_token',
      )
      expect((await me(await mintAfterRevokeAll(identity, { sub: 'usr_all' }))).status).toBe(200)
      expect((await me(bystander)).status).toBe(200)
    })

    it('logs out the others: 204, no cookie cleared, the user’s other sessions refused, this one and other users’ kept', async () => {
      const login = async () =>
        (
          await sdk.sessions().create({ id_token: await identity.mint({ sub: 'usr_others' }) })
        ).setCookie.split(';')[0]!
      const here = { cookie: await login() }
      const elsewhere = { cookie: await login() }
      const token = await identity.mint({ sub: 'usr_others' })
      const bystander = await identity.mint({ sub: 'usr_others_bystander' })
      for (const credential of [here, elsewhere, bearer(token), bearer(bystander)])
        expect((await get('/api/me', credential)).status).toBe(200)
      const logout = await post('/auth/logout-others', here)
      expect(logout.status).toBe(204)
      expect(logout.headers['set-cookie']).toBeUndefined()
      expectProblem(await get('/api/me', elsewhere), 'invalid_token')
      expectProblem(await me(token), 'invalid_token')
      expect((await get('/api/me', here)).status).toBe(200)
      expect((await me(bystander)).status).toBe(200)
      // Logged out of the others again: nothing left to revoke, and this session still stands.
      expect((await post('/auth/logout-others', here)).status).toBe(204)
      expect((await get('/api/me', here)).status).toBe(200)
    })

    it('lists the caller’s sessions and revokes its own, but not another user’s (404)', async () => {
      const mine = await identity.mint({ sub: 'usr_lister' })
      const spare = await identity.mint({ sub: 'usr_lister' })
      const theirs = await identity.mint({ sub: 'usr_other' })
      const spareId = JSON.parse((await me(spare)).body).session_id
      const theirId = JSON.parse((await me(theirs)).body).session_id
      const list = await get('/api/sessions', bearer(mine))
      expect(list.status).toBe(200)
      const ids = (JSON.parse(list.body).sessions as Array<{ id: string; userId: string }>).map((s) => s.id)
      expect(ids).toContain(spareId)
      expect(ids).not.toContain(theirId)
      expectProblem(
        await rawRequest(app.url, 'DELETE', `/api/sessions/${theirId}`, bearer(mine)),
        'session_not_found',
      )
      expect((await me(theirs)).status).toBe(200)
      expect((await rawRequest(app.url, 'DELETE', `/api/sessions/${spareId}`, bearer(mine))).status).toBe(204)
      expectProblem(await me(spare), 'invalid_token')
      expect((await me(mine)).status).toBe(200)
    })

    describe('device metadata', () => {
      const SAFARI =
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'
      const ANDROID =
        'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36'
      /** The session a token's first request made, as `GET /api/sessions` lists it. */
      const listed = async (url: string, token: string, headers: Record<string, string>) => {
        const first = await rawRequest(url, 'GET', '/api/me', { ...bearer(token), ...headers })
        expect(first.status).toBe(200)
        const id = JSON.parse(first.body).session_id as string
        const list = await rawRequest(url, 'GET', '/api/sessions', bearer(token))
        expect(list.status).toBe(200)
        return (JSON.parse(list.body).sessions as Array<Record<string, unknown>>).find((s) => s.id === id)
      }

      it("records the peer's address and the parsed user agent; a spoofed X-Forwarded-For from an untrusted peer is ignored", async () => {
        const token = await identity.mint({ sub: 'usr_device' })
        const session = await listed(app.url, token, {
          'user-agent': SAFARI,
          'x-forwarded-for': '203.0.113.7',
          forwarded: 'for=203.0.113.8',
        })
        expect(session).toMatchObject({
          ip: '127.0.0.1',
          browser: 'Safari 17',
          os: 'macOS',
          deviceType: 'desktop',
          meta: { userAgent: SAFARI, ip: '127.0.0.1' },
        })
      })

      it('behind a trusted proxy, records the address it forwarded: the nearest untrusted one, Forwarded first', async () => {
        const trusted = await clients.create({ ...clientRequest('normal'), trustProxy: ['loopback'] })
        const proxied = await start(trusted.sdk)
        try {
          const viaXff = await listed(proxied.url, await identity.mint({ sub: 'usr_proxied' }), {
            'user-agent': ANDROID,
            // The leftmost entry is the client's own claim; the proxies append, so the rightmost untrusted one counts.
            'x-forwarded-for': '198.51.100.1, 2001:DB8:0:0::7, 127.0.0.1',
          })
          expect(viaXff).toMatchObject({
            ip: '2001:db8::7',
            browser: 'Chrome 126',
            os: 'Android',
            deviceType: 'mobile',
          })
          const viaForwarded = await listed(proxied.url, await identity.mint({ sub: 'usr_proxied' }), {
            'x-forwarded-for': '198.51.100.2',
            forwarded: 'for=192.0.2.60;proto=https, for="[::1]:8443"',
          })
          expect(viaForwarded).toMatchObject({ ip: '192.0.2.60', browser: null, os: null, deviceType: null })
          // What a trusted proxy forwards must still be an address: anything else records none.
          const garbage = await listed(proxied.url, await identity.mint({ sub: 'usr_proxied' }), {
            'x-forwarded-for': '<script>',
          })
          expect(garbage).toMatchObject({ ip: null })
          expect((garbage!.meta as Record<string, string>).ip).toBeUndefined()
        } finally {
          await proxied.close()
          await trusted.close()
        }
      })
    })

    it('authenticates a cookie session, and refuses the cookie after logout', async () => {
      const created = await sdk
        .sessions()
        .create({ id_token: await identity.mint({ sub: 'usr_cookie', email: 'c@example.com' }) })
      const cookie = { cookie: created.setCookie.split(';')[0]! }
      const response = await get('/api/me', cookie)
      expect(response.status).toBe(200)
      expect(JSON.parse(response.body)).toMatchObject({
        sub: 'usr_cookie',
        email: 'c@example.com',
        session_id: created.id,
      })
      const logout = await post('/auth/logout', cookie)
      expect(logout.status).toBe(204)
      expect(logout.headers['set-cookie']).toMatch(cleared())
      const replay = await get('/api/me', cookie)
      expectProblem(replay, 'invalid_token')
      expect(replay.headers['set-cookie']).toMatch(cleared())
    })

    it('never lets a spelling of a protected path reach its handler without a credential', async () => {
      for (const path of [
        '/API/me',
        '//api/me',
        '/api/me/',
        '/%61pi/me',
        '/api/me;x=1',
        '/health/../api/me',
        '/api/./me',
      ]) {
        const response = await get(path)
        expect(response.status, path).not.toBe(200)
        expect(response.status, path).toBeGreaterThanOrEqual(400)
        expect(response.body, path).not.toContain('session_id')
      }
    })

    for (const failMode of ['closed', 'open'] as const) {
      describe(`with a ${clients.silentBackend ?? 'session store'} that never answers (failMode: ${failMode})`, () => {
        let faulty: SuiteClient
        let faultyApp: AdapterServer
        beforeAll(async () => {
          faulty = await clients.create(clientRequest('silent-store', { failMode, timeout: storeTimeout }))
          if (!faulty.setSilent) throw new Error('a silent-store client needs setSilent()')
          faultyApp = await start(faulty.sdk)
        })
        afterAll(async () => {
          await faultyApp?.close()
          await faulty?.close()
        })

        it(
          failMode === 'closed'
            ? 'answers 503 with Retry-After within the deadline'
            : 'lets a verified token through, degraded',
          async () => {
            const token = await identity.mint({ sub: `usr_fail_${failMode}`, email: 'f@example.com' })
            const unavailable = faulty.unavailableCode ?? 'store_unavailable'
            faulty.setSilent!(true)
            const response = await rawRequest(faultyApp.url, 'GET', '/api/me', bearer(token))
            expect(response.elapsed).toBeLessThan(storeTimeout + margin)
            // The answer came from the deadline, not from an early failure of the backend.
            expect(response.elapsed).toBeGreaterThanOrEqual(storeTimeout - 20)
            if (faulty.pending) expect(faulty.pending()).toBeGreaterThan(0)
            if (failMode === 'closed') {
              expectProblem(response, unavailable)
              expect(response.headers['retry-after']).toMatch(/^\d+$/)
            } else {
              expect(response.status).toBe(200)
              expect(JSON.parse(response.body)).toEqual({
                sub: `usr_fail_${failMode}`,
                email: 'f@example.com',
                session_id: null,
                degraded: true,
              })
            }
            // A cookie session cannot be checked without the store, whatever the mode.
            const cookie = await rawRequest(faultyApp.url, 'GET', '/api/me', {
              cookie: `${faulty.sdk.config.sessions.cookie.name}=sess_01HX7KQMB4ABCDEFGHJKMNPQRS.${'a'.repeat(43)}`,
            })
            expect(cookie.elapsed).toBeLessThan(storeTimeout + margin)
            expect(cookie.elapsed).toBeGreaterThanOrEqual(storeTimeout - 20)
            expectProblem(cookie, unavailable)
          },
        )

        // Open: the token passes degraded, then the route's own call fails; closed: authentication refuses first.
        // Either way the adapter's error handler answers core's problem, within a deadline per backend call.
        it('answers GET /api/sessions with the 503 problem, never a framework error page', async () => {
          const token = await identity.mint({ sub: `usr_fail_list_${failMode}` })
          faulty.setSilent!(true)
          const response = await rawRequest(faultyApp.url, 'GET', '/api/sessions', bearer(token))
          expect(response.elapsed).toBeLessThan(2 * storeTimeout + margin)
          expect(response.elapsed).toBeGreaterThanOrEqual(storeTimeout - 20)
          expectProblem(response, faulty.unavailableCode ?? 'store_unavailable')
        })

        it('answers POST /auth/logout with the 503 problem: a revoke that was not written is never a 204', async () => {
          const token = await identity.mint({ sub: `usr_fail_logout_${failMode}` })
          faulty.setSilent!(true)
          const response = await rawRequest(faultyApp.url, 'POST', '/auth/logout', bearer(token))
          expect(response.elapsed).toBeLessThan(2 * storeTimeout + margin)
          expect(response.elapsed).toBeGreaterThanOrEqual(storeTimeout - 20)
          expectProblem(response, faulty.unavailableCode ?? 'store_unavailable')
          expect(response.body).not.toContain(token)
        })
      })
    }
  })
}

/** A spawned example app: its printed URL, its output so far, and the process. */
interface SpawnedApp {
  url: string
  output: () => string
  child: ChildProcess
}

/** Starts `pnpm start`'s command in `cwd` with exactly `env` (plus PATH and HOME) and waits for the URL it prints. */
async function spawnApp(cwd: string, env: Record<string, string>): Promise<SpawnedApp> {
  const child = spawn(process.execPath, ['--conditions=@coresdk/source', '--import', 'tsx', 'src/main.ts'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the app printed no URL within 30 s:\n${output}`)),
      30_000,
    )
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const match = /https?:\/\/[^\s]+/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[0].replace(/\/$/, ''))
      }
    }
    child.stdout?.on('data', read)
    child.stderr?.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the app exited with ${code} before listening:\n${output}`))
    })
  })
  return { url, output: () => output, child }
}

/** Sends SIGTERM and resolves the exit code, or kills the process after `ms`. */
async function stopApp(app: SpawnedApp, ms = 10_000): Promise<number | null> {
  if (app.child.exitCode !== null) return app.child.exitCode
  const exited = once(app.child, 'exit') as Promise<[number | null]>
  app.child.kill('SIGTERM')
  const timer = setTimeout(() => app.child.kill('SIGKILL'), ms)
  const [code] = await exited
  clearTimeout(timer)
  return code
}

/**
 * The example apps' HTTP contract (DESIGN §7), run over HTTP against the app started as its own process
 * (`pnpm start`'s command in `cwd`), configured only by environment, with sessions in memory and, when a Redis
 * answers (or can be started), in Redis.
 * @example
 * describeExampleApp('example-express', fileURLToPath(new URL('..', import.meta.url)))
 */
export function describeExampleApp(name: string, cwd: string): void {
  describe(`example app contract: ${name}`, () => {
    let identity: TestIdentity
    let redis: RedisService | undefined
    beforeAll(async () => {
      identity = await startTestIdentity()
    })
    afterAll(async () => {
      await identity?.close()
      await redis?.stop?.()
    })

    for (const storage of ['memory', 'redis'] as const) {
      describe(`sessions in ${storage}`, () => {
        let app: SpawnedApp | undefined
        let skipReason: string | undefined
        const call = (method: string, path: string, token?: string) =>
          rawRequest(app!.url, method, path, token ? bearer(token) : {})

        beforeAll(async () => {
          const env: Record<string, string> = {
            PORT: '0',
            CORESDK_JWT_ISSUER: identity.issuer,
            CORESDK_JWT_AUDIENCE: identity.audience,
            CORESDK_JWKS_URL: identity.jwksUrl,
            CORESDK_JWT_ALGORITHMS: 'RS256',
            // A tenant per run keeps runs apart in a shared Redis.
            CORESDK_TENANT_ID: `contract-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
            CORESDK_FAIL_MODE: 'closed',
          }
          if (storage === 'redis') {
            redis = await ensureRedis()
            if (redis.url === null) {
              skipReason = redis.reason
              console.warn(`skipped ${name} with Redis: ${skipReason}`)
              return
            }
            env.REDIS_URL = redis.url
          }
          app = await spawnApp(cwd, env)
        })
        afterAll(async () => {
          if (app) await stopApp(app)
        })

        it('serves GET /health without a credential, and the 401 problem on /api/me without one', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          expect((await call('GET', '/health')).status).toBe(200)
          expectProblem(await call('GET', '/api/me'), 'missing_credentials', 'coresdk')
          expectProblem(await call('GET', '/api/me', 'not-a-jwt'), 'invalid_token', 'coresdk')
        })

        it('answers /api/me with exactly { sub, email, session_id }', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          const response = await call(
            'GET',
            '/api/me',
            await identity.mint({ sub: 'usr_2xK9', email: 'a@example.com' }),
          )
          expect(response.status).toBe(200)
          const body = JSON.parse(response.body)
          expect(Object.keys(body).sort()).toEqual(['email', 'session_id', 'sub'])
          expect(body).toMatchObject({ sub: 'usr_2xK9', email: 'a@example.com' })
          expect(body.session_id).toMatch(/^sess_/)
        })

        it('lists the caller’s sessions, revokes its own (204) and not another user’s (404)', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          const mine = await identity.mint({ sub: 'usr_list' })
          const spare = await identity.mint({ sub: 'usr_list' })
          const theirs = await identity.mint({ sub: 'usr_someone_else' })
          const spareId = JSON.parse((await call('GET', '/api/me', spare)).body).session_id
          const theirId = JSON.parse((await call('GET', '/api/me', theirs)).body).session_id
          const list = await call('GET', '/api/sessions', mine)
          expect(list.status).toBe(200)
          const ids = (JSON.parse(list.body).sessions as Array<{ id: string }>).map((s) => s.id)
          expect(ids).toContain(spareId)
          expect(ids).not.toContain(theirId)
          expectProblem(
            await call('DELETE', `/api/sessions/${theirId}`, mine),
            'session_not_found',
            'coresdk',
          )
          expect((await call('GET', '/api/me', theirs)).status).toBe(200)
          expect((await call('DELETE', `/api/sessions/${spareId}`, mine)).status).toBe(204)
          expectProblem(await call('GET', '/api/me', spare), 'invalid_token', 'coresdk')
          expect((await call('GET', '/api/me', mine)).status).toBe(200)
        })

        it('logs out (204, cookie cleared) and refuses the token replayed afterwards', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          const token = await identity.mint({ sub: 'usr_logout' })
          expect((await call('GET', '/api/me', token)).status).toBe(200)
          const logout = await call('POST', '/auth/logout', token)
          expect(logout.status).toBe(204)
          // The app is configured by environment only: its cookie has the default name.
          expect(logout.headers['set-cookie']).toMatch(new RegExp(`^${DEFAULT_COOKIE}=;.*Max-Age=0`, 'i'))
          expect(logout.headers['set-cookie']).toMatch(/; Path=\/;.*; Secure/)
          expectProblem(await call('GET', '/api/me', token), 'invalid_token', 'coresdk')
        })

        it('logs out everywhere (204): all the caller’s tokens refused, other users untouched', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          const first = await identity.mint({ sub: 'usr_all' })
          const second = await identity.mint({ sub: 'usr_all' })
          const bystander = await identity.mint({ sub: 'usr_bystander' })
          for (const token of [first, second, bystander])
            expect((await call('GET', '/api/me', token)).status).toBe(200)
          expect((await call('POST', '/auth/logout-all', first)).status).toBe(204)
          expectProblem(await call('GET', '/api/me', first), 'invalid_token', 'coresdk')
          expectProblem(await call('GET', '/api/me', second), 'invalid_token', 'coresdk')
          expect((await call('GET', '/api/me', bystander)).status).toBe(200)
          const later = await mintAfterRevokeAll(identity, { sub: 'usr_all' })
          expect((await call('GET', '/api/me', later)).status).toBe(200)
        })

        it('logs out the others (204): the caller’s other tokens refused, the caller’s own kept', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          const mine = await identity.mint({ sub: 'usr_others', sid: 'here' })
          const other = await identity.mint({ sub: 'usr_others', sid: 'there' })
          for (const token of [mine, other]) expect((await call('GET', '/api/me', token)).status).toBe(200)
          expect((await call('POST', '/auth/logout-others', mine)).status).toBe(204)
          expectProblem(await call('GET', '/api/me', other), 'invalid_token', 'coresdk')
          expect((await call('GET', '/api/me', mine)).status).toBe(200)
        })

        it('exits cleanly (code 0) on SIGTERM', async (ctx) => {
          if (skipReason) return ctx.skip(skipReason)
          const code = await stopApp(app!)
          expect(code, app!.output()).toBe(0)
        })
      })
    }
  })
}
