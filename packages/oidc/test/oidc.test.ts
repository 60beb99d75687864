import type { IncomingMessage, ServerResponse } from 'node:http'
import { CoreSDKClient, CoreSDKError, MemorySessionStore } from '@coresdk/core'
import { type AuditTrail, createAuditTrail, jsonLinesAuditSink, verifyAuditChain } from '@coresdk/core/audit'
import type { SessionRecord, SessionStore } from '@coresdk/core/store'
import { startOidcProvider, TestBrowser, type TestOidcProvider } from '@coresdk/testing'
import { importJWK, SignJWT } from 'jose'
import * as openid from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BACKCHANNEL_LOGOUT_EVENT,
  createOidcClient,
  createOidcHandlers,
  createOidcRefresher,
  type OidcClient,
  type OidcHandlers,
  type OidcHttpResponse,
} from '../src/index.ts'
import { deriveStateKeys, openLoginState, sealLoginState } from '../src/login-state.ts'
import { startServer } from './support.ts'

const CLIENT_ID = 'app'
const CLIENT_SECRET = 'app-secret-0123456789-abcdefghij'
const OTHER_ID = 'other-app'
const COOKIE_SECRET = 'a-login-state-secret-of-32-bytes-or-more!'

let provider: TestOidcProvider
let app: { url: string; close(): Promise<void> }
let sdk: CoreSDKClient
let oidc: OidcClient
let routes: OidcHandlers
// The audit trail of every session change these tests make, and every token the sessions held (none may be in it).
let trail: AuditTrail
const auditLines: string[] = []
const heldTokens = new Set<string>()

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, answer: OidcHttpResponse): void {
  res.statusCode = answer.status
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
  res.end(answer.body)
}

/** The relying party under test: the four OIDC routes over node:http, plus /me behind sdk.authenticate. */
async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', app.url)
  const request = {
    url,
    method: req.method,
    headers: req.headers,
    body: req.method === 'POST' ? await readBody(req) : null,
  }
  switch (url.pathname) {
    case '/auth/login':
      return send(res, await routes.login(request))
    case '/auth/callback':
      return send(res, await routes.callback(request))
    case '/auth/logout':
      return send(res, await routes.logout(request, { everywhere: url.searchParams.has('everywhere') }))
    case '/auth/backchannel-logout':
      return send(res, await routes.backchannelLogout(request))
    case '/me': {
      const result = await sdk.authenticate({
        cookie: req.headers.cookie,
        authorization: req.headers.authorization,
      })
      res.setHeader('content-type', 'application/json')
      if (!result.ok) {
        res.statusCode = result.problem.status
        return void res.end(JSON.stringify(result.problem.body))
      }
      return void res.end(
        JSON.stringify({ sub: result.user?.sub, session: result.session?.id, sid: result.user?.sid }),
      )
    }
    default:
      res.statusCode = 404
      res.end()
  }
}

function sdkFor(issuer: string, refresher = createOidcRefresher()): CoreSDKClient {
  return new CoreSDKClient({
    tenantId: 'oidc-test',
    jwt: {
      issuer,
      // The API's audience, apart from the client id: ID tokens are for sessions().create(), never bearer tokens.
      audience: 'oidc-test-api',
      idTokenAudience: CLIENT_ID,
      jwksUri: `${issuer}/jwks`,
      algorithms: ['RS256'],
    },
    sessions: { tokenRefresher: refresher, cookie: { secure: false } },
    env: {},
  })
}

beforeAll(async () => {
  app = await startServer((req, res) => handle(req, res))
  provider = await startOidcProvider(() => [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${app.url}/auth/callback`],
      post_logout_redirect_uris: [`${app.url}/`],
      backchannel_logout_uri: `${app.url}/auth/backchannel-logout`,
    },
    { client_id: OTHER_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${app.url}/auth/callback`] },
  ])
  const refresher = createOidcRefresher()
  sdk = sdkFor(provider.issuer, refresher)
  trail = createAuditTrail(sdk, { sink: jsonLinesAuditSink({ write: (line) => auditLines.push(line) }) })
  const remember = async (sessionId: string) => {
    const tokens = await sdk.sessions().getTokens(sessionId)
    for (const value of Object.values(tokens ?? {})) if (typeof value === 'string') heldTokens.add(value)
  }
  sdk.on('session.created', (event) => remember(event.sessionId))
  sdk.on('session.refreshed', (event) => remember(event.sessionId))
  oidc = await createOidcClient({
    sdk,
    refresher,
    issuer: provider.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: `${app.url}/auth/callback`,
    postLogoutRedirectUri: `${app.url}/`,
    scope: 'openid email profile offline_access',
    authorizationParams: { prompt: 'consent' },
    cookieSecret: COOKIE_SECRET,
    allowInsecureRequests: true,
  })
  routes = createOidcHandlers(oidc)
})

afterAll(async () => {
  await sdk?.close()
  await app?.close()
  await provider?.close()
})

/** Signs in through the app's routes as a browser would; returns the browser and the session it holds. */
async function signIn(login = 'alice', browser = new TestBrowser()) {
  const landed = await browser.navigate(`${app.url}/auth/login?returnTo=/me`, {
    login,
    stopAt: `${app.url}/me`,
  })
  expect(landed.url).toBe(`${app.url}/me`)
  const me = await browser.fetch(`${app.url}/me`)
  expect(me.status).toBe(200)
  const body = (await me.json()) as { sub: string; session: string; sid: string }
  return { browser, ...body }
}

/** Runs the provider part of a login started with `oidc.login()`, returning the callback URL (not yet fetched). */
async function authorize(url: string, browser = new TestBrowser(), login = 'alice'): Promise<string> {
  const { url: callback } = await browser.navigate(url, { login, stopAt: `${app.url}/auth/callback` })
  expect(callback.startsWith(`${app.url}/auth/callback?`)).toBe(true)
  return callback
}

/** What a test changes in an otherwise valid logout token; `null` leaves the header or claim out. */
interface LogoutTokenShape {
  audience?: string
  typ?: string | null
  iat?: number | null
  exp?: number | null
  jti?: string | null
}

/** A logout token signed with the provider's own key: valid (iat now, exp in 2 min, a fresh jti) unless told. */
async function signLogoutToken(
  claims: Record<string, unknown>,
  shape: LogoutTokenShape = {},
): Promise<string> {
  const key = await importJWK(provider.privateJwk, 'RS256')
  const now = Math.floor(Date.now() / 1000)
  const registered: Record<string, unknown> = {
    iss: provider.issuer,
    aud: shape.audience ?? CLIENT_ID,
    iat: shape.iat === undefined ? now : shape.iat,
    exp: shape.exp === undefined ? now + 120 : shape.exp,
    jti: shape.jti === undefined ? crypto.randomUUID() : shape.jti,
  }
  for (const [name, value] of Object.entries(registered)) if (value === null) delete registered[name]
  const typ = shape.typ === undefined ? 'logout+jwt' : shape.typ
  return new SignJWT({ ...registered, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key', ...(typ === null ? {} : { typ }) })
    .sign(key)
}

/** Counts the provider's refresh-token grants from now on: those it answered, and those it refused. */
function countRefreshGrants() {
  const counts = { ok: 0, refused: 0 }
  type GrantContext = { oidc?: { params?: { grant_type?: unknown } } }
  const isRefresh = (ctx: GrantContext) => ctx.oidc?.params?.grant_type === 'refresh_token'
  const ok = (ctx: GrantContext) => void (isRefresh(ctx) && counts.ok++)
  const refused = (ctx: GrantContext) => void (isRefresh(ctx) && counts.refused++)
  provider.provider.on('grant.success', ok)
  provider.provider.on('grant.error', refused)
  return Object.assign(() => ({ ...counts }), {
    stop() {
      provider.provider.off('grant.success', ok)
      provider.provider.off('grant.error', refused)
    },
  })
}

const postLogoutToken = (token: string) =>
  fetch(`${app.url}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  })

describe('login and callback', () => {
  it('a login through the provider creates a session for the sub, bound to the provider session', async () => {
    const { browser, sub, session, sid } = await signIn('alice')
    expect(sub).toBe('alice')
    expect(sid).toEqual(expect.any(String))
    expect(browser.cookie(app.url, 'coresdk_oidc')).toBeUndefined()
    const stored = await sdk.sessions().get(session)
    expect(stored?.userId).toBe('alice')
    expect(stored?.isActive()).toBe(true)
    expect(stored?.meta.userAgent).toContain('TestBrowser')
    const tokens = await sdk.sessions().getTokens(session)
    expect(tokens?.refreshToken).toEqual(expect.any(String))
    expect(tokens?.idToken).toEqual(expect.any(String))
  })

  it('the ID token of a login is refused as a bearer token: the API audience is not the client id', async () => {
    const { session } = await signIn('ivo')
    const idToken = (await sdk.sessions().getTokens(session))?.idToken
    expect(idToken).toEqual(expect.any(String))
    const me = await fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${idToken}` } })
    expect(me.status).toBe(401)
    expect(await me.json()).toMatchObject({ code: 'invalid_token' })
  })

  it('the authorization request uses PKCE S256, a state and a nonce, and keeps them in an encrypted cookie', async () => {
    const { url, setCookie } = await oidc.login({ returnTo: '/profile?tab=1' })
    const params = new URL(url).searchParams
    expect(params.get('code_challenge_method')).toBe('S256')
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(params.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(params.get('nonce')).toMatch(/^[\w-]{20,}$/)
    expect(setCookie).toMatch(
      /^coresdk_oidc=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/,
    )
    for (const value of [params.get('state'), params.get('nonce')]) expect(setCookie).not.toContain(value)
    const browser = new TestBrowser()
    browser.setCookie(app.url, 'coresdk_oidc', setCookie.split(';')[0]!.split('=')[1]!)
    const result = await oidc.callback({
      url: await authorize(url, browser),
      cookie: browser.cookieHeader(app.url),
    })
    expect(result.returnTo).toBe('/profile?tab=1')
  })

  it('login() called with a returnTo that is not a path on this site throws invalid_request', async () => {
    for (const returnTo of ['//evil.example/', '/\\evil', 'https://evil.example/', '/\r\nx', '/café', '']) {
      const error = await oidc.login({ returnTo }).catch((e: unknown) => e)
      expect(error, JSON.stringify(returnTo)).toBeInstanceOf(CoreSDKError)
      expect(error).toMatchObject({ code: 'invalid_request', status: 400 })
    }
  })

  it('a login state sealed with a bad returnTo (an old cookie) sends the callback home, with the session made', async () => {
    const { url, setCookie } = await oidc.login({ returnTo: '/me' })
    const key = await deriveStateKeys(COOKIE_SECRET)
    const saved = await openLoginState(setCookie.split(';')[0]!.split('=')[1], key)
    const old = await sealLoginState({ ...saved!, returnTo: '//evil.example/' }, key, 600)
    const callbackUrl = await authorize(url, new TestBrowser(), 'olga')
    const response = await fetch(callbackUrl, {
      headers: { cookie: `coresdk_oidc=${old}` },
      redirect: 'manual',
    })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    expect(response.headers.getSetCookie().join()).toContain(`${sdk.config.sessions.cookie.name}=sess_`)
    expect(await sdk.sessions().listForUser('olga')).toHaveLength(1)
  })

  it('the login-state cookie is __Host- when secure (an https redirect URI), and a prefixed name needs Secure', async () => {
    const https = await createOidcClient({
      sdk,
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: 'https://app.example.com/auth/callback',
      cookieSecret: COOKIE_SECRET,
      allowInsecureRequests: true,
    })
    const { setCookie } = await https.login()
    expect(setCookie).toMatch(/^__Host-coresdk_oidc=[^;]+; Path=\/; .*; Secure$/)
    expect(setCookie).not.toMatch(/domain=/i)
    expect(https.clearStateCookie()).toMatch(/^__Host-coresdk_oidc=; Path=\/; Max-Age=0; .*; Secure$/)
    for (const cookieName of ['__Host-login', '__Secure-login']) {
      await expect(
        createOidcClient({
          sdk,
          issuer: provider.issuer,
          clientId: CLIENT_ID,
          redirectUri: `${app.url}/auth/callback`,
          cookieSecret: COOKIE_SECRET,
          cookieName,
          allowInsecureRequests: true,
        }),
      ).rejects.toThrow(/cookieName.*cookieSecure/)
    }
    await expect(
      createOidcClient({
        sdk,
        issuer: provider.issuer,
        clientId: CLIENT_ID,
        redirectUri: `${app.url}/auth/callback`,
        cookieSecret: COOKIE_SECRET,
        cookieName: 'login;state',
      }),
    ).rejects.toThrow(/cookieName.*cookie name token/)
  })

  it('a callback whose state does not match the login-state cookie is a 400 and creates no session', async () => {
    const first = await oidc.login()
    const second = await oidc.login()
    const browser = new TestBrowser()
    const callbackUrl = await authorize(first.url, browser, 'mallory')
    // The cookie of another login (an attacker's login CSRF) does not match this state.
    await expect(
      oidc.callback({ url: callbackUrl, cookie: second.setCookie.split(';')[0] }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
      status: 400,
    })
    const viaRoute = await fetch(callbackUrl, {
      headers: { cookie: second.setCookie.split(';')[0]! },
      redirect: 'manual',
    })
    expect(viaRoute.status).toBe(400)
    expect(viaRoute.headers.get('content-type')).toBe('application/problem+json')
    expect(viaRoute.headers.getSetCookie().join()).toContain('coresdk_oidc=;')
    expect(await sdk.sessions().listForUser('mallory')).toEqual([])
  })

  it('a callback without the login-state cookie, or with a tampered one, is a 400', async () => {
    const { url, setCookie } = await oidc.login()
    const callbackUrl = await authorize(url)
    await expect(oidc.callback({ url: callbackUrl, cookie: null })).rejects.toMatchObject({
      code: 'invalid_request',
    })
    const value = setCookie.split(';')[0]!
    // One character changed for certain (the one replaced is compared, not its neighbour).
    const tampered = `${value.slice(0, -2)}${value.at(-2) === 'A' ? 'B' : 'A'}${value.slice(-1)}`
    expect(tampered).not.toBe(value)
    await expect(oidc.callback({ url: callbackUrl, cookie: tampered })).rejects.toMatchObject({
      code: 'invalid_request',
    })
  })

  it('an ID token whose nonce differs from the one this browser sent is rejected', async () => {
    const { url, setCookie } = await oidc.login()
    const forged = new URL(url)
    forged.searchParams.set('nonce', 'a-nonce-the-browser-never-sent')
    const callbackUrl = await authorize(forged.href, new TestBrowser(), 'nina')
    const error = await oidc
      .callback({ url: callbackUrl, cookie: setCookie.split(';')[0] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CoreSDKError)
    expect(error).toMatchObject({ code: 'invalid_token', status: 401 })
    expect(await sdk.sessions().listForUser('nina')).toEqual([])
  })

  it('an ID token for another audience (client) is rejected by the session verifier', async () => {
    const other = await createOidcClient({
      sdk,
      issuer: provider.issuer,
      clientId: OTHER_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: `${app.url}/auth/callback`,
      cookieSecret: COOKIE_SECRET,
      allowInsecureRequests: true,
    })
    const { url, setCookie } = await other.login()
    const callbackUrl = await authorize(url, new TestBrowser(), 'oscar')
    await expect(other.callback({ url: callbackUrl, cookie: setCookie.split(';')[0] })).rejects.toMatchObject(
      {
        code: 'invalid_token',
      },
    )
    expect(await sdk.sessions().listForUser('oscar')).toEqual([])
  })

  it('an authorization code is single-use: replaying the callback fails', async () => {
    const { url, setCookie } = await oidc.login()
    const callbackUrl = await authorize(url, new TestBrowser(), 'rita')
    const cookie = setCookie.split(';')[0]
    await oidc.callback({ url: callbackUrl, cookie })
    await expect(oidc.callback({ url: callbackUrl, cookie })).rejects.toMatchObject({
      code: 'invalid_request',
    })
  })

  it('a provider error on the callback (the user refused) is a 400', async () => {
    const { url, setCookie } = await oidc.login()
    const state = new URL(url).searchParams.get('state')!
    const callbackUrl = `${app.url}/auth/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(provider.issuer)}`
    await expect(oidc.callback({ url: callbackUrl, cookie: setCookie.split(';')[0] })).rejects.toMatchObject({
      code: 'invalid_request',
    })
  })
})

describe('refresh', () => {
  it('rotates the refresh token; replaying the old one is invalid_grant and revokes the session', async () => {
    const { browser, session } = await signIn('rory')
    const before = await sdk.sessions().getTokens(session)
    await sdk.sessions().refresh(session)
    const after = await sdk.sessions().getTokens(session)
    expect(after?.refreshToken).toEqual(expect.any(String))
    expect(after?.refreshToken).not.toBe(before?.refreshToken)
    expect(after?.accessToken).not.toBe(before?.accessToken)
    expect((await browser.fetch(`${app.url}/me`)).status).toBe(200)

    // Someone replays the spent refresh token: the provider refuses it and revokes the whole grant.
    const record = { id: session, userId: 'rory' } as SessionRecord
    await expect(oidc.tokenRefresher.refresh(before!.refreshToken!, record)).rejects.toMatchObject({
      code: 'refresh_token_invalid',
    })
    // The session's own (newer) refresh token died with the grant: the next refresh revokes the session.
    await expect(sdk.sessions().refresh(session)).rejects.toMatchObject({ code: 'refresh_token_invalid' })
    expect((await sdk.sessions().get(session))?.revokedAt).toBeInstanceOf(Date)
    expect((await browser.fetch(`${app.url}/me`)).status).toBe(401)
  })

  it('concurrent refreshes of one session make one grant, so rotation does not spend the token twice', async () => {
    const { session } = await signIn('cora')
    const before = await sdk.sessions().getTokens(session)
    const grants = countRefreshGrants()
    try {
      await Promise.all([1, 2, 3].map(() => sdk.sessions().refresh(session)))
      expect(grants()).toEqual({ ok: 1, refused: 0 })
      const after = await sdk.sessions().getTokens(session)
      expect(after?.refreshToken).not.toBe(before?.refreshToken)
      // The one rotated token still works, which it would not if a second grant had replayed the spent one.
      await sdk.sessions().refresh(session)
      expect(grants()).toEqual({ ok: 2, refused: 0 })
      expect((await sdk.sessions().get(session))?.isActive()).toBe(true)
    } finally {
      grants.stop()
    }
  })

  it('freshTokens refreshes an access token about to expire through sessions().refresh(), and only then', async () => {
    const { session } = await signIn('fern')
    const grants = countRefreshGrants()
    try {
      const held = await oidc.freshTokens(session)
      // The provider's access tokens live 300 s: more than the 60 s asked by default, so nothing is refreshed.
      expect(grants()).toEqual({ ok: 0, refused: 0 })
      expect(held?.accessToken).toBe((await sdk.sessions().getTokens(session))?.accessToken)
      const fresh = await Promise.all([1, 2, 3].map(() => oidc.freshTokens(session, { minValidity: 600 })))
      expect(grants()).toEqual({ ok: 1, refused: 0 })
      expect(new Set(fresh.map((t) => t?.accessToken)).size).toBe(1)
      expect(fresh[0]?.accessToken).not.toBe(held?.accessToken)
      await expect(oidc.freshTokens(session, { minValidity: -1 })).rejects.toMatchObject({
        code: 'invalid_request',
      })
    } finally {
      grants.stop()
    }
  })

  it('a refresher used before it is bound fails with refresh_failed', async () => {
    const unbound = createOidcRefresher()
    expect(unbound.bound).toBe(false)
    await expect(unbound.refresh('x', { id: 'sess_x', userId: 'u' } as SessionRecord)).rejects.toMatchObject({
      code: 'refresh_failed',
    })
    expect(() => unbound.bind({ tokenRefresher: { refresh: async () => ({}) } })).not.toThrow()
    expect(unbound.bound).toBe(true)
  })
})

describe('logout', () => {
  it('ending the session at the provider sends a back-channel logout that revokes the app session', async () => {
    const { browser, session } = await signIn('bea')
    const revoked: Array<{ sessionId: string; actor: string }> = []
    const off = sdk.on('session.revoked', (event) => void revoked.push(event))
    const tokens = await sdk.sessions().getTokens(session)
    const endSession = oidc.logoutUrl({ idTokenHint: tokens?.idToken })
    expect(endSession).toContain('/session/end')
    // The provider's "sign out?" page is confirmed; the provider then POSTs a logout token to the app.
    const done = await browser.navigate(endSession!, { stopAt: `${app.url}/` })
    expect(done.url).toBe(`${app.url}/`)
    expect((await sdk.sessions().get(session))?.revokedAt).toBeInstanceOf(Date)
    expect((await browser.fetch(`${app.url}/me`)).status).toBe(401)
    // The provider acted: the lifecycle event says so.
    off()
    expect(revoked).toEqual([
      expect.objectContaining({ sessionId: session, actor: 'idp', reason: 'requested' }),
    ])
  })

  it('the logout route revokes the session, clears the cookie and sends the browser to the provider', async () => {
    const { browser, session } = await signIn('lou')
    const response = await browser.fetch(`${app.url}/auth/logout`, { method: 'POST' })
    expect(response.status).toBe(303)
    const location = new URL(response.headers.get('location')!)
    expect(location.origin + location.pathname).toBe(`${provider.issuer}/session/end`)
    expect(location.searchParams.get('id_token_hint')).toEqual(expect.any(String))
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/`)
    expect(response.headers.getSetCookie().join()).toContain(`${sdk.config.sessions.cookie.name}=;`)
    expect((await sdk.sessions().get(session))?.revokedAt).toBeInstanceOf(Date)
    expect((await browser.fetch(`${app.url}/auth/logout`)).status).toBe(405)
  })

  it('the logout route with everywhere revokes every session of the user', async () => {
    const one = await signIn('eve')
    const two = await signIn('eve')
    expect(one.session).not.toBe(two.session)
    await one.browser.fetch(`${app.url}/auth/logout?everywhere`, { method: 'POST' })
    expect((await two.browser.fetch(`${app.url}/me`)).status).toBe(401)
    expect(await sdk.sessions().listForUser('eve')).toEqual([])
  })
})

describe('back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0)', () => {
  const event = { [BACKCHANNEL_LOGOUT_EVENT]: {} }
  const now = () => Math.floor(Date.now() / 1000)
  const meStatus = async (browser: TestBrowser) => (await browser.fetch(`${app.url}/me`)).status

  it('a valid token with sub and sid revokes only that provider session; a replay is refused', async () => {
    const one = await signIn('sam')
    const two = await signIn('sam')
    const token = await signLogoutToken({ sub: 'sam', sid: one.sid, events: event })
    const response = await postLogoutToken(token)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await meStatus(one.browser)).toBe(401)
    expect(await meStatus(two.browser)).toBe(200)
    const replay = await postLogoutToken(token)
    expect(replay.status).toBe(400)
    expect(await replay.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The logout token was already used.',
    })
  })

  it('a token with only sid (no sub) revokes the session of that provider session, and no other', async () => {
    const one = await signIn('sia')
    const two = await signIn('sia')
    expect(one.sid).not.toBe(two.sid)
    const response = await postLogoutToken(await signLogoutToken({ sid: one.sid, events: event }))
    expect(response.status).toBe(200)
    expect(await meStatus(one.browser)).toBe(401)
    expect(await meStatus(two.browser)).toBe(200)
    expect((await sdk.sessions().get(one.session))?.revokedAt).toBeInstanceOf(Date)
    // A sid this app has no session for is a logout with nothing to do.
    expect((await postLogoutToken(await signLogoutToken({ sid: 'unknown-sid', events: event }))).status).toBe(
      200,
    )
  })

  it('a token naming a user and another user’s sid revokes nothing', async () => {
    const victim = await signIn('tia')
    const response = await postLogoutToken(
      await signLogoutToken({ sub: 'mallory', sid: victim.sid, events: event }),
    )
    expect(response.status).toBe(200)
    expect(await meStatus(victim.browser)).toBe(200)
  })

  it('a token with only sub revokes every session of the user', async () => {
    const one = await signIn('ula')
    const two = await signIn('ula')
    expect((await postLogoutToken(await signLogoutToken({ sub: 'ula', events: event }))).status).toBe(200)
    expect(await meStatus(one.browser)).toBe(401)
    expect(await meStatus(two.browser)).toBe(401)
  })

  it.each([
    ['no typ', { typ: null }],
    ['typ application/logout+jwt', { typ: 'application/logout+jwt' }],
    ['an iat a little in the future, within the clock tolerance', { iat: now() + 3 }],
    ['an iat almost logoutTokenMaxAge old', { iat: now() - 290 }],
  ] as Array<[string, LogoutTokenShape]>)('a token with %s is accepted', async (_case, shape) => {
    // A user per case: a login within the clock tolerance after a revoke-all of its user is refused.
    const user = `wes-${crypto.randomUUID().slice(0, 8)}`
    const { browser } = await signIn(user)
    const response = await postLogoutToken(await signLogoutToken({ sub: user, events: event }, shape))
    expect(response.status).toBe(200)
    expect(await meStatus(browser)).toBe(401)
  })

  it.each([
    ['typ JWT (another kind of token)', {}, { typ: 'JWT' }],
    ['typ at+jwt', {}, { typ: 'at+jwt' }],
    ['no exp', {}, { exp: null }],
    ['an exp in the past', {}, { exp: now() - 60, iat: now() - 120 }],
    ['no iat', {}, { iat: null }],
    ['an iat in the future beyond the clock tolerance', {}, { iat: now() + 60 }],
    ['an iat older than logoutTokenMaxAge', {}, { iat: now() - 3600, exp: now() + 60 }],
    ['no jti', {}, { jti: null }],
    ['another audience', {}, { audience: OTHER_ID }],
    ['a nonce', { nonce: 'n' }, {}],
    ['no events', { events: undefined }, {}],
    ['events that are not an object', { events: 'backchannel-logout' }, {}],
    ['events that are an array', { events: [BACKCHANNEL_LOGOUT_EVENT] }, {}],
    ['no back-channel logout member in events', { events: { 'urn:other': {} } }, {}],
    [
      'a back-channel logout member that is not an object',
      { events: { [BACKCHANNEL_LOGOUT_EVENT]: true } },
      {},
    ],
    ['a back-channel logout member that is an array', { events: { [BACKCHANNEL_LOGOUT_EVENT]: [] } }, {}],
    ['neither sub nor sid', { sub: undefined }, {}],
    ['a sub that is not a string', { sub: 42 }, {}],
  ] as Array<[string, Record<string, unknown>, LogoutTokenShape]>)(
    'a token with %s is a 400 and revokes nothing',
    async (_case, claims, shape) => {
      // A user per case, so that a token wrongly accepted shows in its own case only.
      const user = `vic-${crypto.randomUUID().slice(0, 8)}`
      const { browser } = await signIn(user)
      const response = await postLogoutToken(
        await signLogoutToken({ sub: user, events: event, ...claims }, shape),
      )
      expect(response.status).toBe(400)
      const body = (await response.json()) as { error: string; error_description: string }
      expect(body.error).toBe('invalid_request')
      expect(body.error_description).not.toContain(user)
      expect(await meStatus(browser)).toBe(200)
    },
  )

  it('a token signed with another key is a 400 and revokes nothing', async () => {
    const { browser } = await signIn('vic')
    const { generateKeyPair } = await import('jose')
    const { privateKey } = await generateKeyPair('RS256')
    const forged = await new SignJWT({ sub: 'vic', events: event, jti: 'j' })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'logout+jwt' })
      .setIssuer(provider.issuer)
      .setAudience(CLIENT_ID)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey)
    expect((await postLogoutToken(forged)).status).toBe(400)
    expect(await meStatus(browser)).toBe(200)
  })

  it('the provider’s own ID token posted as a logout token is a 400 and revokes nothing', async () => {
    const { browser, session } = await signIn('ida')
    const idToken = (await sdk.sessions().getTokens(session))?.idToken
    expect(idToken).toEqual(expect.any(String))
    const response = await postLogoutToken(idToken!)
    expect(response.status).toBe(400)
    expect(await meStatus(browser)).toBe(200)
  })

  it('a request without a logout_token is a 400', async () => {
    const response = await fetch(`${app.url}/auth/backchannel-logout`, {
      method: 'POST',
      body: 'nothing=here',
    })
    expect(response.status).toBe(400)
  })
})

describe('back-channel logout replay, across instances', () => {
  const event = { [BACKCHANNEL_LOGOUT_EVENT]: {} }
  const KEY = new Uint8Array(32).fill(7)

  /** Two instances of one app: each its own CoreSDK and OIDC client, over one session store. */
  async function instances(store: SessionStore) {
    return Promise.all(
      [0, 1].map(async () => {
        const instance = new CoreSDKClient({
          tenantId: 'oidc-replay',
          jwt: {
            issuer: provider.issuer,
            audience: 'api',
            idTokenAudience: CLIENT_ID,
            jwksUri: `${provider.issuer}/jwks`,
            algorithms: ['RS256'],
          },
          sessions: { store, encryptionKey: KEY, cookie: { secure: false } },
          env: {},
        })
        const client = await createOidcClient({
          sdk: instance,
          issuer: provider.issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUri: `${app.url}/auth/callback`,
          cookieSecret: COOKIE_SECRET,
          allowInsecureRequests: true,
        })
        return { sdk: instance, oidc: client }
      }),
    )
  }
  const deliver = (client: OidcClient, token: string) =>
    client.backchannelLogout({ body: new URLSearchParams({ logout_token: token }) })

  it('a token accepted by one instance is refused by another sharing the store (claimOnce in the store)', async () => {
    const store = new MemorySessionStore()
    const [a, b] = await instances(store)
    try {
      const token = await signLogoutToken({ sub: 'rex', events: event })
      expect((await deliver(a!.oidc, token)).status).toBe(200)
      const replay = await deliver(b!.oidc, token)
      expect(replay.status).toBe(400)
      expect(JSON.parse(replay.body)).toMatchObject({
        error_description: 'The logout token was already used.',
      })
      // Two deliveries at once, on two instances: one acts.
      const twice = await signLogoutToken({ sub: 'rex', events: event })
      const answers = await Promise.all([deliver(a!.oidc, twice), deliver(b!.oidc, twice)])
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400])
    } finally {
      await Promise.all([a!.sdk.close(), b!.sdk.close()])
      await store.close()
    }
  })

  it('over a store without claimOnce, the replay is refused only by the instance that saw the token', async () => {
    const memory = new MemorySessionStore()
    // The same store with the optional method taken away, as a store of an older contract would be.
    const store = new Proxy(memory, {
      get: (target, name) => {
        if (name === 'claimOnce') return undefined
        const value = Reflect.get(target, name, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
      has: (target, name) => name !== 'claimOnce' && Reflect.has(target, name),
    }) as SessionStore
    expect(store.claimOnce).toBeUndefined()
    const [a, b] = await instances(store)
    try {
      const token = await signLogoutToken({ sub: 'rey', events: event })
      expect((await deliver(a!.oidc, token)).status).toBe(200)
      expect((await deliver(a!.oidc, token)).status).toBe(400)
      // This is what claimOnce in the store prevents: docs/oauth.md says so.
      expect((await deliver(b!.oidc, token)).status).toBe(200)
    } finally {
      await Promise.all([a!.sdk.close(), b!.sdk.close()])
      await memory.close()
    }
  })
})

describe('configuration', () => {
  it('a short cookie secret or a bad redirect URI fails at construction, naming the setting', async () => {
    const base = {
      sdk,
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      redirectUri: `${app.url}/cb`,
      allowInsecureRequests: true,
    }
    await expect(createOidcClient({ ...base, cookieSecret: 'short' })).rejects.toThrow(/cookieSecret/)
    await expect(
      createOidcClient({ ...base, cookieSecret: COOKIE_SECRET, redirectUri: 'nope' }),
    ).rejects.toThrow(/redirectUri/)
  })

  it('an http issuer is refused unless allowInsecureRequests is set', async () => {
    await expect(
      createOidcClient({
        sdk,
        issuer: provider.issuer,
        clientId: CLIENT_ID,
        redirectUri: `${app.url}/cb`,
        cookieSecret: COOKIE_SECRET,
      }),
    ).rejects.toBeInstanceOf(openid.ClientError)
  })
})

describe('the audit trail of these logins, refreshes and logouts', () => {
  it('is one intact chain, with the IdP’s back-channel logouts, and holds no token', async () => {
    await trail.flush()
    const lines = auditLines.join('').trim().split('\n')
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: true, count: lines.length })
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    const seen = new Set(records.map((r) => `${r.type} ${r.actor}`))
    expect(seen).toContain('session.created user')
    expect(seen).toContain('session.refreshed service')
    expect(seen).toContain('session.revoked idp')
    expect(seen).toContain('session.revoked user')
    expect(seen).toContain('user.sessions_revoked user')
    expect(records.some((r) => r.type === 'session.refreshed' && r.rotated === true)).toBe(true)
    expect(heldTokens.size).toBeGreaterThan(3)
    const text = lines.join('\n')
    for (const token of heldTokens) expect(text).not.toContain(token)
    expect(text).not.toContain(CLIENT_SECRET)
    expect(text).not.toContain(COOKIE_SECRET)
  })
})
