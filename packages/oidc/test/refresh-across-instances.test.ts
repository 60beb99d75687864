import { type ChildProcess, fork } from 'node:child_process'
import type { ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { CoreSDKClient, MemorySessionStore } from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'
import { createRedisSessionStore, redisClientOptions } from '@coresdk/redis-store'
import { ensureRedis, startOidcProvider, TestBrowser, type TestOidcProvider } from '@coresdk/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOidcClient, createOidcRefresher, type OidcClient } from '../src/index.ts'

const CLIENT_ID = 'cluster-app'
const CLIENT_SECRET = 'cluster-app-secret-0123456789-abcdef'
const COOKIE_SECRET = 'a-login-state-secret-of-32-bytes-or-more!'
// Registered at the provider, never fetched: the test completes each callback itself.
const REDIRECT_URI = 'http://127.0.0.1:9/auth/callback'
const ENCRYPTION_KEY = 'c2hhcmVkLWtleS1vZi0zMi1ieXRlcy1mb3ItdGVzdHM'
const PROCESSES = 4
const CALLS = 50
const WORKER = fileURLToPath(new URL('./refresh-worker.ts', import.meta.url))
const NODE_ARGS = ['--conditions=@coresdk/source', '--import', 'tsx']

const redis = await ensureRedis()
afterAll(() => redis.stop?.())
if (redis.url === null) console.warn(`skipped: ${redis.reason}`)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const tenant = `refresh-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

let provider: TestOidcProvider
const grants = { ok: 0, refused: 0 }
const closers: Array<() => Promise<unknown> | unknown> = []

/** An instance of the app in this process: its own CoreSDK client and OIDC client, over `store`. */
async function instance(store: SessionStore, refreshLockTtl = 10_000) {
  const refresher = createOidcRefresher()
  const sdk = new CoreSDKClient({
    tenantId: tenant,
    jwt: {
      issuer: provider.issuer,
      audience: 'oidc-test-api',
      idTokenAudience: CLIENT_ID,
      jwksUri: `${provider.issuer}/jwks`,
      algorithms: ['RS256'],
    },
    sessions: { store, encryptionKey: ENCRYPTION_KEY, tokenRefresher: refresher, refreshLockTtl },
    env: {},
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
    cookieSecret: COOKIE_SECRET,
    allowInsecureRequests: true,
  })
  return { sdk, oidc }
}

async function redisStore(): Promise<SessionStore> {
  const client = new Redis(redis.url!, redisClientOptions())
  client.on('error', () => {})
  const store = createRedisSessionStore({ client })
  await store.ready()
  closers.push(async () => {
    await store.close()
    client.disconnect()
  })
  return store
}

/** Signs `login` in through the provider; the session id. */
async function signIn(oidc: OidcClient, login: string): Promise<string> {
  const { url, setCookie } = await oidc.login()
  const { url: callback } = await new TestBrowser().navigate(url, { login, stopAt: REDIRECT_URI })
  const { session } = await oidc.callback({ url: callback, cookie: setCookie.split(';')[0] })
  return session.id
}

/** An app instance in a child process (refresh-worker.ts), ready for work. */
async function startWorker(lockTtl: number): Promise<ChildProcess> {
  const child = fork(WORKER, {
    execArgv: NODE_ARGS,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redis.url!,
      TENANT: tenant,
      ISSUER: provider.issuer,
      CLIENT_ID,
      CLIENT_SECRET,
      REDIRECT_URI,
      COOKIE_SECRET,
      ENCRYPTION_KEY,
      LOCK_TTL: String(lockTtl),
    },
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  closers.push(() => child.kill('SIGKILL'))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in 30 s: ${stderr}`)), 30_000)
    child.once('message', () => {
      clearTimeout(timer)
      resolve()
    })
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)))
  })
  return child
}

type Answer = { ok: true; accessToken: string | null; active: boolean } | { ok: false; code: string }

function refreshIn(child: ChildProcess, id: string, calls: number): Promise<Answer[]> {
  return new Promise((resolve) => {
    child.once('message', (message: { answers: Answer[] }) => resolve(message.answers))
    child.send({ refresh: id, calls })
  })
}

/** Holds each token request until `release()` (or the client hangs up: then the provider never sees it). */
function holdTokenRequests() {
  const arrived: Array<() => void> = []
  let opened: () => void
  const first = new Promise<void>((resolve) => {
    opened = resolve
  })
  const gate = (_req: unknown, res: ServerResponse) =>
    new Promise<boolean>((resolve) => {
      res.once('close', () => resolve(false))
      arrived.push(() => resolve(true))
      opened()
    })
  const release = () => {
    for (const go of arrived.splice(0)) go()
  }
  return { gate, first, release }
}

describe.skipIf(redis.url === null)(`one refresh per session across instances ${redis.reason ?? ''}`, () => {
  beforeAll(async () => {
    provider = await startOidcProvider(() => [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] },
    ])
    const count = (field: 'ok' | 'refused') => (ctx: { oidc?: { params?: { grant_type?: unknown } } }) => {
      if (ctx.oidc?.params?.grant_type === 'refresh_token') grants[field]++
    }
    provider.provider.on('grant.success', count('ok'))
    provider.provider.on('grant.error', count('refused'))
  })

  afterAll(async () => {
    for (const close of closers.reverse()) await close()
    await provider?.close()
  })

  it(`${PROCESSES} processes × ${CALLS} concurrent refresh() calls on one session make exactly 1 grant, and every caller gets the new tokens`, async () => {
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(10_000)))
    const { sdk, oidc } = await instance(await redisStore())
    const id = await signIn(oidc, 'multi')
    const before = await sdk.sessions().getTokens(id)
    const start = { ...grants }
    // The provider answers the first grant only once every process has asked: all 200 calls overlap it.
    const held = holdTokenRequests()
    provider.beforeToken = held.gate
    const answers = Promise.all(workers.map((worker) => refreshIn(worker, id, CALLS)))
    await held.first
    await sleep(500)
    provider.beforeToken = null
    held.release()
    const all = (await answers).flat()

    expect(grants.ok - start.ok).toBe(1)
    expect(grants.refused - start.refused).toBe(0)
    expect(all).toHaveLength(PROCESSES * CALLS)
    expect(all.every((answer) => answer.ok && answer.active)).toBe(true)
    const tokens = new Set(all.map((answer) => (answer.ok ? answer.accessToken : null)))
    expect(tokens.size).toBe(1)
    // This instance took no part: its local cache may answer the tokens it read before for up to its staleness
    // bound (1 s), after which it reads the rotation too.
    await sleep(1100)
    const after = await sdk.sessions().getTokens(id)
    expect([...tokens][0]).toBe(after?.accessToken)
    expect(after?.accessToken).not.toBe(before?.accessToken)
    expect(after?.refreshToken).not.toBe(before?.refreshToken)
    expect((await sdk.sessions().get(id))?.isActive()).toBe(true)
  }, 90_000)

  it('a lock holder killed mid-refresh holds the session up for the lock TTL only; the next caller refreshes', async () => {
    const ttl = 1500
    const worker = await startWorker(ttl)
    const { sdk, oidc } = await instance(await redisStore(), ttl)
    const id = await signIn(oidc, 'dies')
    const before = await sdk.sessions().getTokens(id)
    const start = { ...grants }
    const held = holdTokenRequests()
    provider.beforeToken = held.gate
    void refreshIn(worker, id, 1)
    await held.first
    const lockedAt = Date.now()
    // The holder dies with its grant in flight: the provider never sees that request.
    worker.kill('SIGKILL')
    await sleep(100)
    provider.beforeToken = null
    const session = await sdk.sessions().refresh(id)
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(ttl - 200)
    expect(session.isActive()).toBe(true)
    expect(grants.ok - start.ok).toBe(1)
    expect(grants.refused - start.refused).toBe(0)
    expect((await sdk.sessions().getTokens(id))?.refreshToken).not.toBe(before?.refreshToken)
  }, 60_000)

  for (const locked of [true, false]) {
    it(`a lost race (invalid_grant after another instance rotated) re-reads the session instead of revoking it ${locked ? '(Redis, a lease that ran out mid-grant)' : '(a store without the lock)'}`, async () => {
      const memory = new MemorySessionStore()
      closers.push(() => memory.close())
      // A store of an older contract: the same memory store with the optional lock taken away.
      const lockless = new Proxy(memory, {
        get: (target, name) => {
          if (name === 'acquireRefreshLock' || name === 'releaseRefreshLock') return undefined
          const value = Reflect.get(target, name, target)
          return typeof value === 'function' ? value.bind(target) : value
        },
      }) as SessionStore
      const shared = locked ? await redisStore() : lockless
      const a = await instance(shared, 500)
      const b = await instance(shared, 500)
      const id = await signIn(a.oidc, locked ? 'racer' : 'racer-lockless')
      const start = { ...grants }
      // A's grant is slow to reach the provider; meanwhile (its lease over, if any) B refreshes and rotates.
      const held = holdTokenRequests()
      provider.beforeToken = held.gate
      const slow = a.sdk.sessions().refresh(id)
      await held.first
      provider.beforeToken = null
      await sleep(600)
      await b.sdk.sessions().refresh(id)
      const rotated = await b.sdk.sessions().getTokens(id)
      held.release()
      // A's grant presents the spent refresh token: the provider refuses it, and A answers B's rotation.
      const answer = await slow
      expect(grants.ok - start.ok).toBe(1)
      expect(grants.refused - start.refused).toBe(1)
      expect(answer.isActive()).toBe(true)
      expect((await a.sdk.sessions().get(id))?.revokedAt).toBeNull()
      expect((await a.sdk.sessions().getTokens(id))?.accessToken).toBe(rotated?.accessToken)
    }, 30_000)
  }
})
