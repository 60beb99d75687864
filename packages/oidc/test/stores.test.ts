import { inspect } from 'node:util'
import { CoreSDKClient, CoreSDKError, MemorySessionStore } from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'
import { createRedisSessionStore, redisClientOptions } from '@coresdk/redis-store'
import { ensureRedis, startOidcProvider, TestBrowser, type TestOidcProvider } from '@coresdk/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOidcClient, createOidcHandlers, createOidcRefresher, type OidcClient } from '../src/index.ts'

// Logins against the real oidc-provider (refresh-token rotation on) over memory and Redis: "remember me" carried from
// login() to the session, and a rotation of CoreSDK's own secrets (sessions.encryptionKey and the OIDC cookieSecret)
// while sessions are live and logins are in progress.

const CLIENT_ID = 'rotation-app'
const CLIENT_SECRET = 'rotation-app-secret-0123456789-abcdef'
// Registered at the provider, never fetched: the test completes each callback itself.
const REDIRECT_URI = 'http://127.0.0.1:9/auth/callback'
const OLD_KEY = Buffer.alloc(32, 11).toString('base64url')
const NEW_KEY = Buffer.alloc(32, 22).toString('base64url')
const OLD_SECRET = 'the-old-login-state-secret-0123456789abcdef'
const NEW_SECRET = 'the-new-login-state-secret-0123456789abcdef'

const redis = await ensureRedis()
afterAll(() => redis.stop?.())
if (redis.url === null) console.warn(`skipped: ${redis.reason}`)

let provider: TestOidcProvider
beforeAll(async () => {
  provider = await startOidcProvider(() => [
    { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] },
  ])
})
afterAll(() => provider?.close())

interface Secrets {
  keys: string[]
  cookieSecrets: string[]
}

const stores: Array<[string, boolean, () => Promise<{ store: SessionStore; close(): Promise<void> }>]> = [
  [
    'memory',
    true,
    async () => {
      const store = new MemorySessionStore()
      return { store, close: () => store.close() }
    },
  ],
  [
    'redis',
    redis.url !== null,
    async () => {
      const client = new Redis(redis.url!, redisClientOptions())
      client.on('error', () => {})
      const store = createRedisSessionStore({ client })
      await store.ready()
      return {
        store,
        close: async () => {
          await store.close()
          client.disconnect()
        },
      }
    },
  ],
]

for (const [kind, available, open] of stores) {
  describe.skipIf(!available)(`OIDC logins, ${kind} store`, () => {
    const closers: Array<() => Promise<unknown>> = []
    afterAll(async () => {
      for (const close of closers.reverse()) await close()
    })
    const tenant = `rotation-${kind}-${crypto.randomUUID().slice(0, 8)}`

    /** One instance of the app, configured with these secrets (newest first), over the shared store. */
    async function instance(store: SessionStore, { keys, cookieSecrets }: Secrets) {
      const refresher = createOidcRefresher()
      const sdk = new CoreSDKClient({
        tenantId: tenant,
        jwt: {
          issuer: provider.issuer,
          audience: 'rotation-api',
          idTokenAudience: CLIENT_ID,
          jwksUri: `${provider.issuer}/jwks`,
          algorithms: ['RS256'],
        },
        sessions: { store, tokenRefresher: refresher, cookie: { secure: false } },
        // The keys as operators set them: comma-separated, newest first.
        env: { CORESDK_SESSION_ENCRYPTION_KEY: keys.join(',') },
      })
      closers.push(() => sdk.close())
      const oidc = await createOidcClient({
        sdk,
        refresher,
        issuer: provider.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT_URI,
        scope: 'openid offline_access',
        authorizationParams: { prompt: 'consent' },
        cookieSecret: cookieSecrets.length === 1 ? cookieSecrets[0]! : cookieSecrets,
        allowInsecureRequests: true,
      })
      return { sdk, oidc }
    }

    /** Starts a login and goes through the provider; the callback is not made yet. */
    async function startLogin(oidc: OidcClient, login: string) {
      const { url, setCookie } = await oidc.login()
      const { url: callback } = await new TestBrowser().navigate(url, { login, stopAt: REDIRECT_URI })
      return { callback, cookie: setCookie.split(';')[0]! }
    }

    it('login({ rememberMe }) reaches the session through the sealed login state: persistent or browser-session cookie', async () => {
      const { store, close } = await open()
      closers.push(close)
      const app = await instance(store, { keys: [NEW_KEY], cookieSecrets: [NEW_SECRET] })
      const land = async (rememberMe?: boolean) => {
        const { url, setCookie } = await app.oidc.login(rememberMe === undefined ? {} : { rememberMe })
        const { url: callback } = await new TestBrowser().navigate(url, {
          login: 'remy',
          stopAt: REDIRECT_URI,
        })
        const { session, setCookie: set } = await app.oidc.callback({
          url: callback,
          cookie: setCookie.split(';')[0],
        })
        const stored = (await app.sdk.sessions().get(session.id))!
        return { maxAge: /; Max-Age=(\d+)/i.exec(set[0]!)?.[1], persistent: stored.persistent }
      }
      expect(await land(false)).toEqual({ maxAge: undefined, persistent: false })
      expect(await land(true)).toEqual({ maxAge: expect.stringMatching(/^86(399|400)$/), persistent: true })
      expect(await land()).toEqual({ maxAge: expect.stringMatching(/^86(399|400)$/), persistent: true })
      await expect(app.oidc.login({ rememberMe: 1 as unknown as boolean })).rejects.toMatchObject({
        code: 'invalid_request',
      })
    })

    it('old sessions keep working and move to the new key; a login started before completes after; a dropped secret fails cleanly', async () => {
      const { store, close } = await open()
      closers.push(close)
      const before = await instance(store, { keys: [OLD_KEY], cookieSecrets: [OLD_SECRET] })

      // Live under the old secrets: two sessions (one will be refreshed, one left idle) and two logins in progress.
      const signIn = async (login: string) => {
        const started = await startLogin(before.oidc, login)
        return (await before.oidc.callback({ url: started.callback, cookie: started.cookie })).session
      }
      const live = await signIn('rita')
      const idle = await signIn('ivan')
      const pending = await startLogin(before.oidc, 'paula')
      const stale = await startLogin(before.oidc, 'sam')
      const firstTokens = await before.sdk.sessions().getTokens(live.id)
      expect(firstTokens?.refreshToken).toEqual(expect.any(String))

      // Step 1: every instance gets the new secrets first, the old ones kept after them.
      const during = await instance(store, {
        keys: [NEW_KEY, OLD_KEY],
        cookieSecrets: [NEW_SECRET, OLD_SECRET],
      })
      // The login started before the rotation completes after it.
      const completed = await during.oidc.callback({ url: pending.callback, cookie: pending.cookie })
      expect(completed.session.userId).toBe('paula')
      // Sessions sealed under the old key: their tokens open, and a refresh (a real grant, rotating the refresh
      // token) works and seals the new tokens with the new key.
      expect(await during.sdk.sessions().getTokens(live.id)).toEqual(firstTokens)
      expect((await during.sdk.sessions().refresh(live.id)).isActive()).toBe(true)
      const rotated = await during.sdk.sessions().getTokens(live.id)
      expect(rotated?.refreshToken).toEqual(expect.any(String))
      expect(rotated?.refreshToken).not.toBe(firstTokens?.refreshToken)
      // A login made now is sealed with the new secret: an instance not yet rotated cannot open it.
      const fresh = await startLogin(during.oidc, 'nina')
      await expect(before.oidc.callback({ url: fresh.callback, cookie: fresh.cookie })).rejects.toMatchObject(
        {
          code: 'invalid_request',
        },
      )

      // Step 2, after the longest session lifetime: the old key and secret are dropped.
      const after = await instance(store, { keys: [NEW_KEY], cookieSecrets: [NEW_SECRET] })
      // What the new key sealed opens, and refreshes on.
      expect(await after.sdk.sessions().getTokens(live.id)).toEqual(rotated)
      expect(await after.oidc.freshTokens(live.id, { minValidity: 86_400 })).toMatchObject({
        accessToken: expect.any(String),
      })
      expect(await after.sdk.sessions().getTokens(completed.session.id)).toMatchObject({
        refreshToken: expect.any(String),
      })
      // A session that was never refreshed still holds tokens sealed with the dropped key: a clear error, no key shown.
      const refused = await after.sdk
        .sessions()
        .getTokens(idle.id)
        .catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(CoreSDKError)
      expect(refused).toMatchObject({ code: 'refresh_token_invalid', status: 401 })
      const shown = inspect(refused, { depth: 10 })
      for (const secret of [OLD_KEY, NEW_KEY]) expect(shown).not.toContain(secret)
      await expect(after.oidc.freshTokens(idle.id, { minValidity: 86_400 })).rejects.toMatchObject({
        code: 'refresh_token_invalid',
      })
      // A login state sealed with the dropped secret is refused at the callback route: a 400 problem, no stack.
      const answer = await createOidcHandlers(after.oidc).callback({
        url: stale.callback,
        method: 'GET',
        headers: { cookie: stale.cookie },
      })
      expect(answer.status).toBe(400)
      const body = JSON.parse(answer.body) as Record<string, unknown>
      expect(body).toMatchObject({ code: 'invalid_request', status: 400 })
      expect(answer.body).not.toMatch(/at .*\.ts|stack|Error:/)
      for (const secret of [OLD_SECRET, NEW_SECRET]) expect(answer.body).not.toContain(secret)
    })
  })
}
