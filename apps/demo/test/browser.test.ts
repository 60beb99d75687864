import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDemo, startDemo } from '../src/demo.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const REQUIRED = process.env.CORESDK_REQUIRE_SERVICES === '1'
const SHOTS = fileURLToPath(new URL('../test-results/', import.meta.url))
const FIREFOX_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0'

/** Skips (with the reason printed) when a service is missing, or fails when CORESDK_REQUIRE_SERVICES=1. */
function needs(present: boolean, reason: string): boolean {
  if (present) return true
  if (REQUIRED) throw new Error(`${reason}; CORESDK_REQUIRE_SERVICES=1 requires it`)
  console.warn(`skipping: ${reason}`)
  return false
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 1000 })
    const done = (up: boolean) => {
      socket.destroy()
      resolve(up)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

const withChromium = needs(
  existsSync(CHROMIUM),
  `Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH or install chromium)`,
)
const withRedis =
  withChromium && needs(await reachable(REDIS_URL), `no Redis at ${REDIS_URL} for the demo on Redis`)

let browser: Browser

beforeAll(async () => {
  if (!withChromium) return
  mkdirSync(SHOTS, { recursive: true })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
})

describe.each([
  { store: 'memory' as const, run: withChromium, redisUrl: undefined },
  { store: 'redis' as const, run: withRedis, redisUrl: REDIS_URL },
])('the demo in a real browser, sessions in $store', ({ store, run, redisUrl }) => {
  let demo: RunningDemo
  // A fresh user per run: a shared Redis may hold sessions of earlier runs.
  const username = `alice-${randomBytes(4).toString('hex')}`

  async function shot(page: Page, name: string): Promise<void> {
    if (store === 'memory') await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true })
  }

  /** Signs in from the app's home page through the provider's login page. */
  async function signIn(page: Page, shots = false): Promise<void> {
    await page.goto(demo.appUrl)
    if (shots) await shot(page, '01-home')
    await page.getByRole('link', { name: /Sign in with/ }).click()
    await page.waitForURL(`${demo.providerUrl}/interaction/**`)
    await page.getByLabel('Username').fill(username)
    if (shots) await shot(page, '02-provider-login')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${demo.appUrl}/profile`)
  }

  beforeAll(async () => {
    if (!run) return
    demo = await startDemo({ appPort: 0, providerPort: 0, redisUrl })
    expect(demo.store).toBe(store)
  })

  afterAll(async () => {
    await demo?.close()
  })

  it.skipIf(!run)(
    'two browsers sign in as one user; one revokes the other; "Sign out other devices" ends the other; "Log out everywhere" ends all',
    async () => {
      const laptop = await browser.newContext({ viewport: { width: 1100, height: 760 } })
      const phone = await browser.newContext({
        viewport: { width: 1100, height: 760 },
        userAgent: FIREFOX_UA,
      })
      const a = await laptop.newPage()
      const b = await phone.newPage()

      await signIn(a, true)
      expect(await a.locator('table').textContent()).toContain(`${username}@example.test`)
      await shot(a, '03-profile')

      // The app calls its API with the session's access token: accepted; with its ID token: refused.
      await a.getByRole('link', { name: 'Call the API' }).click()
      await a.waitForURL(`${demo.appUrl}/api-call`)
      expect(await a.locator('tr[data-call="accessToken"] [data-status]').textContent()).toBe('200')
      expect(await a.locator('tr[data-call="accessToken"]').textContent()).toContain(`"sub":"${username}"`)
      expect(await a.locator('tr[data-call="idToken"] [data-status]').textContent()).toBe('401')
      await shot(a, '03b-api-call')
      await signIn(b)

      // "My sessions" on the laptop lists both browsers and marks this one.
      await a.goto(`${demo.appUrl}/sessions`)
      const rows = a.locator('tbody tr')
      expect(await rows.count()).toBe(2)
      expect(await a.locator('tr.current').textContent()).toContain('this device')
      expect(await a.locator('tr.current').textContent()).toContain('Headless Chrome')
      expect(await a.locator('tbody tr:not(.current)').textContent()).toContain('Firefox 128 on macOS')
      // Browser, OS and the address each browser connected from (this machine's loopback: no proxy is trusted).
      expect(await a.locator('tr.current [data-device]').textContent()).toMatch(
        /^Headless Chrome \d+ on Linux/,
      )
      for (const ip of await a.locator('tbody tr [data-ip]').allTextContents())
        expect(ip).toMatch(/^(127\.0\.0\.1|::1)$/)
      await shot(a, '04-my-sessions')

      // As any client would: the API takes the access token as a bearer token, never the ID token.
      const sessionId = (await a.locator('tr.current').getAttribute('data-session'))!
      const tokens = (await demo.sdk.sessions().getTokens(sessionId))!
      const api = `${demo.appUrl.replace('localhost', '127.0.0.1')}/api/me`
      const byAccessToken = await fetch(api, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
      expect(byAccessToken.status).toBe(200)
      // The access token carries the provider session: the API request is the session of that login.
      expect(await byAccessToken.json()).toMatchObject({ sub: username, session_id: sessionId })
      const byIdToken = await fetch(api, { headers: { authorization: `Bearer ${tokens.idToken}` } })
      expect(byIdToken.status).toBe(401)
      expect(await byIdToken.json()).toMatchObject({ code: 'invalid_token' })
      expect(byIdToken.headers.get('www-authenticate')).toContain('error="invalid_token"')
      expect(await rows.count()).toBe(2)

      // The laptop revokes the other browser's session.
      await a.locator('tbody tr:not(.current)').getByRole('button', { name: 'Revoke' }).click()
      await a.waitForURL(`${demo.appUrl}/sessions`)
      expect(await rows.count()).toBe(1)
      await shot(a, '05-after-revoke')

      // The revoked browser's next page load is back at the sign-in page.
      await b.goto(`${demo.appUrl}/profile`)
      expect(b.url()).toBe(`${demo.appUrl}/`)
      expect(await b.getByRole('link', { name: /Sign in with/ }).isVisible()).toBe(true)
      await shot(b, '06-revoked-browser')

      // Its provider session is still alive, but a revocation sticks: that provider session cannot open another
      // session here. Signing in takes it to sign out at the provider, then to sign in anew.
      await b.getByRole('link', { name: /Sign in with/ }).click()
      await b.waitForURL(`${demo.providerUrl}/session/end**`)
      await b.getByRole('button', { name: 'Yes, sign me out' }).click()
      await b.waitForURL(`${demo.appUrl}/?state=revoked`)
      expect(await b.locator('[data-notice="revoked"]').isVisible()).toBe(true)
      await shot(b, '06b-revoked-sign-in-again')
      await b.getByRole('link', { name: /Sign in with/ }).click()
      await b.waitForURL(`${demo.providerUrl}/interaction/**`)
      await b.getByLabel('Username').fill(username)
      await b.getByRole('button', { name: 'Sign in' }).click()
      await b.waitForURL(`${demo.appUrl}/profile`)
      await a.goto(`${demo.appUrl}/sessions`)
      expect(await rows.count()).toBe(2)

      // "Sign out other devices" on the laptop ends the phone's session; the laptop stays signed in.
      await a.getByRole('button', { name: 'Sign out other devices' }).click()
      await a.waitForURL(`${demo.appUrl}/sessions?others=1`)
      expect(await a.locator('[data-notice="others"]').textContent()).toContain('Signed out 1 other device')
      expect(await rows.count()).toBe(1)
      expect(await a.locator('tr.current').textContent()).toContain('this device')
      await shot(a, '06c-signed-out-other-devices')
      await b.goto(`${demo.appUrl}/profile`)
      expect(b.url()).toBe(`${demo.appUrl}/`)
      expect(await b.getByRole('link', { name: /Sign in with/ }).isVisible()).toBe(true)
      await a.goto(`${demo.appUrl}/profile`)
      expect(a.url()).toBe(`${demo.appUrl}/profile`)
      const left = await demo.sdk.sessions().listForUser(username)
      expect(left.map((s) => s.id)).toEqual([sessionId])
      await a.goto(`${demo.appUrl}/sessions`)

      // "Log out everywhere": every session ends, then the provider asks whether to end its session too.
      await a.getByRole('button', { name: 'Log out everywhere' }).click()
      await a.waitForURL(`${demo.providerUrl}/session/end**`)
      await shot(a, '07-provider-logout')
      await a.getByRole('button', { name: 'Yes, sign me out' }).click()
      await a.waitForURL(`${demo.appUrl}/`)
      expect(await a.getByRole('link', { name: /Sign in with/ }).isVisible()).toBe(true)
      await shot(a, '08-logged-out')

      await b.goto(`${demo.appUrl}/sessions`)
      expect(b.url()).toBe(`${demo.appUrl}/`)
      await a.goto(`${demo.appUrl}/profile`)
      expect(a.url()).toBe(`${demo.appUrl}/`)
      expect(await demo.sdk.sessions().listForUser(username)).toEqual([])
      await laptop.close()
      await phone.close()
    },
    90_000,
  )
})
