import { CoreSDKClient } from '@coresdk/core'
import { importJWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectProblem } from './describe-adapter.ts'
import type { AdapterServer } from './http.ts'
import { rawRequest } from './http.ts'
import { TestBrowser as Browser, startOidcProvider, type TestOidcProvider } from './oidc-provider.ts'
import { freePort } from './services.ts'

// OpenID Connect Back-Channel Logout 1.0, §2.4: the event a logout token carries.
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/**
 * What the suite uses of `@coresdk/oidc`: pass the module (`import * as oidc from '@coresdk/oidc'`), so that this
 * package does not depend on it.
 */
export interface OidcModule<Client, Routes> {
  createOidcClient(options: {
    sdk: CoreSDKClient
    issuer: string
    clientId: string
    clientSecret: string
    redirectUri: string
    postLogoutRedirectUri: string
    cookieSecret: string
    allowInsecureRequests: boolean
  }): Promise<Client>
  createOidcHandlers(client: Client): Routes
}

/** What an adapter's app under test is built from. */
export interface AuthRoutesApp<Routes> {
  /** The client the adapter's middleware authenticates with. */
  sdk: CoreSDKClient
  /** The OIDC routes (`@coresdk/oidc`'s handlers) to mount with the adapter's `authRoute()`. */
  routes: Routes
  /** The port to listen on (127.0.0.1): the provider knows the app's redirect URI before the app starts. */
  port: number
}

/**
 * Starts the adapter's real HTTP server on `port`, serving:
 * - `GET /auth/login`, `GET /auth/callback`, `POST /auth/logout`, `POST /auth/backchannel-logout`: the matching
 *   route of `routes` through the adapter's `authRoute()`, outside authentication (public);
 * - `POST /auth/logout-all`: `authRoute((req) => routes.logout(req, { everywhere: true }))`, public;
 * - `GET /api/me`: behind the adapter's authentication, 200 `{ sub, session_id }`.
 */
export type StartAuthApp<Routes> = (app: AuthRoutesApp<Routes>) => Promise<AdapterServer>

const CLIENT_ID = 'adapter-app'
const CLIENT_SECRET = 'adapter-app-secret-0123456789-abcdef'
const REALM = 'auth-routes-suite'
// Plain HTTP here: the login-state cookie is not Secure, so it carries no prefix.
const STATE_COOKIE = 'coresdk_oidc'

/**
 * The OIDC routes mounted with an adapter's `authRoute()`, driven through its real HTTP server against a real
 * oidc-provider: login, callback, a protected route with the session cookie, logout, back-channel logout.
 * @example
 * describeAuthRoutes('express', oidc, async ({ sdk, routes, port }) => listen(createApp(sdk, routes), port))
 */
export function describeAuthRoutes<Client, Routes>(
  name: string,
  oidc: OidcModule<Client, Routes>,
  start: StartAuthApp<Routes>,
): void {
  describe(`OIDC routes through authRoute(): ${name}`, () => {
    let provider: TestOidcProvider
    let sdk: CoreSDKClient
    let app: AdapterServer
    let base: string
    let sessionCookie: string

    beforeAll(async () => {
      const port = await freePort()
      base = `http://127.0.0.1:${port}`
      provider = await startOidcProvider(() => [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${base}/auth/callback`],
          post_logout_redirect_uris: [`${base}/`],
          backchannel_logout_uri: `${base}/auth/backchannel-logout`,
        },
      ])
      sdk = new CoreSDKClient({
        serviceName: REALM,
        tenantId: 'auth-routes',
        env: {},
        jwt: {
          issuer: provider.issuer,
          audience: CLIENT_ID,
          idTokenAudience: CLIENT_ID,
          jwksUri: `${provider.issuer}/jwks`,
          algorithms: ['RS256'],
        },
        sessions: { cookie: { secure: false }, persistentTimeout: 30 * 86_400 },
      })
      const client = await oidc.createOidcClient({
        sdk,
        issuer: provider.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: `${base}/auth/callback`,
        postLogoutRedirectUri: `${base}/`,
        cookieSecret: 'an-adapter-suite-login-state-secret-0123456789',
        allowInsecureRequests: true,
      })
      sessionCookie = sdk.config.sessions.cookie.name
      app = await start({ sdk, routes: oidc.createOidcHandlers(client), port })
      expect(app.url).toBe(base)
    })
    afterAll(async () => {
      await app?.close()
      await sdk?.close()
      await provider?.close()
    })

    /** Signs in through the app's routes as a browser does; returns the browser, its session cookie and id. */
    async function signIn(login: string, browser = new Browser()) {
      const landed = await browser.navigate(`${base}/auth/login?returnTo=/api/me`, {
        login,
        stopAt: `${base}/api/me`,
      })
      expect(landed.url).toBe(`${base}/api/me`)
      const cookie = browser.cookie(base, sessionCookie)
      expect(cookie).toEqual(expect.any(String))
      const me = await browser.fetch(`${base}/api/me`)
      expect(me.status).toBe(200)
      const body = (await me.json()) as { sub: string; session_id: string }
      return { browser, cookie: `${sessionCookie}=${cookie}`, ...body }
    }

    it('login → provider → callback gives a session cookie that the protected route accepts', async () => {
      const login = await rawRequest(base, 'GET', '/auth/login?returnTo=/api/me')
      expect(login.status).toBe(302)
      expect(login.headers.location?.startsWith(`${provider.issuer}/auth?`)).toBe(true)
      expect(login.headers['set-cookie']).toMatch(
        new RegExp(`^${STATE_COOKIE}=[^;]+; Path=/; Max-Age=600; HttpOnly`),
      )

      const { browser, sub, session_id } = await signIn('alice')
      expect(sub).toBe('alice')
      expect(session_id).toMatch(/^sess_/)
      // The single-use login state is gone once the callback has run.
      expect(browser.cookie(base, STATE_COOKIE)).toBeUndefined()
      const session = await sdk.sessions().get(session_id)
      expect(session?.isActive()).toBe(true)
      // The callback route hands core the socket's peer: the login's session records where it came from.
      expect(session?.ip).toMatch(/^(127\.0\.0\.1|::1)$/)
    })

    it('logout revokes the session, clears the cookie and goes to the provider; the old cookie is then refused', async () => {
      const { browser, cookie, session_id } = await signIn('bob')
      const logout = await browser.fetch(`${base}/auth/logout`, { method: 'POST' })
      expect(logout.status).toBe(303)
      expect(logout.headers.get('location')?.startsWith(`${provider.issuer}/session/end?`)).toBe(true)
      expect(logout.headers.getSetCookie().join('\n')).toMatch(
        new RegExp(`^${sessionCookie}=;.*Max-Age=0`, 'im'),
      )
      expect(browser.cookie(base, sessionCookie)).toBeUndefined()
      expect((await sdk.sessions().get(session_id))?.isActive()).toBe(false)
      const replay = await rawRequest(base, 'GET', '/api/me', { cookie })
      expectProblem(replay, 'invalid_token', REALM)
    })

    it('logout-all (the handler wrapped with everywhere) ends every session of the user', async () => {
      const first = await signIn('carol')
      const second = await signIn('carol')
      expect(first.session_id).not.toBe(second.session_id)
      const logout = await first.browser.fetch(`${base}/auth/logout-all`, { method: 'POST' })
      expect(logout.status).toBe(303)
      expectProblem(
        await rawRequest(base, 'GET', '/api/me', { cookie: first.cookie }),
        'invalid_token',
        REALM,
      )
      expectProblem(
        await rawRequest(base, 'GET', '/api/me', { cookie: second.cookie }),
        'invalid_token',
        REALM,
      )
    })

    it('the back-channel logout form POST reaches the handler: the provider session’s app session ends', async () => {
      const { cookie, session_id } = await signIn('dave')
      const sid = (await sdk.sessions().get(session_id))?.claims.sid
      expect(sid).toEqual(expect.any(String))
      const key = await importJWK(provider.privateJwk, 'RS256')
      const token = await new SignJWT({ sub: 'dave', sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'logout+jwt' })
        .setIssuer(provider.issuer)
        .setAudience(CLIENT_ID)
        .setIssuedAt()
        // Back-Channel Logout 1.0 requires exp.
        .setExpirationTime('2m')
        .setJti(crypto.randomUUID())
        .sign(key)
      const post = (body: URLSearchParams) =>
        fetch(`${base}/auth/backchannel-logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        })
      // A form without a logout token is read, and refused as the spec says.
      const refused = await post(new URLSearchParams({ other: 'x' }))
      expect(refused.status).toBe(400)
      expect(await refused.json()).toMatchObject({ error: 'invalid_request' })
      expect((await rawRequest(base, 'GET', '/api/me', { cookie })).status).toBe(200)

      const accepted = await post(new URLSearchParams({ logout_token: token }))
      expect(accepted.status).toBe(200)
      expect(accepted.headers.get('cache-control')).toBe('no-store')
      expectProblem(await rawRequest(base, 'GET', '/api/me', { cookie }), 'invalid_token', REALM)
    })

    it('a failed callback answers core’s problem as it is and clears the login-state cookie', async () => {
      const response = await rawRequest(base, 'GET', '/auth/callback?code=forged&state=forged', {
        cookie: `${STATE_COOKIE}=not-a-login-state`,
      })
      // The OIDC handlers answer with core's default realm.
      expectProblem(response, 'invalid_request', 'coresdk')
      expect(response.headers['set-cookie']).toMatch(new RegExp(`^${STATE_COOKIE}=;.*Max-Age=0`, 'i'))
    })

    it('a login with a returnTo that is not a path on this site is the 400 problem naming returnTo, and starts nothing', async () => {
      const refused: Array<[string, string]> = [
        ['another host', encodeURIComponent('//evil.example')],
        ['a backslash', encodeURIComponent('/\\evil')],
        ['an absolute URL', encodeURIComponent('https://evil.example/')],
        ['an encoded CR LF', encodeURIComponent('/%0d%0aSet-Cookie:x')],
        ['a CR LF', '/%0d%0aSet-Cookie:x'],
        ['non-ASCII', encodeURIComponent('/café-évil')],
        ['5000 characters', `/${'a'.repeat(4999)}`],
        ['two values', 'returnTo=/a&returnTo=/b'],
      ]
      for (const [what, query] of refused) {
        const target = query.startsWith('returnTo=')
          ? `/auth/login?${query}`
          : `/auth/login?returnTo=${query}`
        const response = await rawRequest(base, 'GET', target)
        expect(response.status, what).toBe(400)
        expect(response.headers['content-type'], what).toBe('application/problem+json')
        expect(response.headers.location, what).toBeUndefined()
        expect(response.headers['set-cookie'], what).toBeUndefined()
        const body = JSON.parse(response.body)
        expect(body, what).toMatchObject({ status: 400, code: 'invalid_request', title: 'Invalid request' })
        expect(body.detail, what).toContain('returnTo')
        for (const echoed of ['evil', 'Set-Cookie', 'aaaaaaaa', '/a', '/b'])
          expect(response.body, what).not.toContain(echoed)
      }
    })

    it('rememberMe on the login route: 1 gives a persistent cookie for sessions.persistentTimeout, 0 a browser-session cookie', async () => {
      const land = async (query: string) => {
        const browser = new Browser()
        const landed = await browser.navigate(`${base}/auth/login?returnTo=/api/me${query}`, {
          login: 'gina',
          stopAt: `${base}/api/me`,
        })
        expect(landed.url).toBe(`${base}/api/me`)
        const line = browser.setCookieLine(base, sessionCookie) ?? ''
        const me = (await (await browser.fetch(`${base}/api/me`)).json()) as { session_id: string }
        const session = (await sdk.sessions().get(me.session_id))!
        const lifetime = session.absoluteExpiresAt.getTime() - session.createdAt.getTime()
        return { maxAge: /; Max-Age=(\d+)/i.exec(line)?.[1], persistent: session.persistent, lifetime }
      }
      const remembered = await land('&rememberMe=1')
      expect(Number(remembered.maxAge)).toBeGreaterThanOrEqual(30 * 86_400 - 1)
      expect(remembered).toMatchObject({ persistent: true, lifetime: 30 * 86_400_000 })
      expect(await land('&rememberMe=0')).toEqual({
        maxAge: undefined,
        persistent: false,
        lifetime: 86_400_000,
      })
      // Without the parameter, core's default: persistent for sessions.absoluteTimeout.
      const plain = await land('')
      expect(Number(plain.maxAge)).toBeGreaterThanOrEqual(86_399)
      expect(plain).toMatchObject({ persistent: true, lifetime: 86_400_000 })
      for (const query of ['rememberMe=yes', 'rememberMe=1&rememberMe=0']) {
        const response = await rawRequest(base, 'GET', `/auth/login?${query}`)
        expect(response.status, query).toBe(400)
        expect(response.headers['set-cookie'], query).toBeUndefined()
        expect(JSON.parse(response.body), query).toMatchObject({ code: 'invalid_request' })
        expect(JSON.parse(response.body).detail, query).toContain('rememberMe')
      }
    })

    it('a login with returnTo=/profile?tab=1 lands there after the callback', async () => {
      const browser = new Browser()
      const landed = await browser.navigate(
        `${base}/auth/login?returnTo=${encodeURIComponent('/profile?tab=1')}`,
        {
          login: 'fay',
          stopAt: `${base}/profile`,
        },
      )
      expect(landed.url).toBe(`${base}/profile?tab=1`)
      expect(browser.cookie(base, sessionCookie)).toEqual(expect.any(String))
    })
  })
}
