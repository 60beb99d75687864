import { inspect } from 'node:util'
import { CoreSDKClient, CoreSDKError, MemorySessionStore, type SDKConfig } from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'
import {
  ensureRedis,
  faultyStore,
  type RedisClusterService,
  requireServices,
  startRedisCluster,
  TestIssuer,
} from '@coresdk/testing'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSidecarServer } from '../src/index.ts'
import { redisStoreOver } from './helpers.ts'

// The guarantees of docs/sessions.md, each proved in both engine modes (the client's own store, and the SDK in
// sidecar mode against a real sidecar on an ephemeral port) on the memory store, one Redis and a 3-node Cluster.

const TOLERANCE = 5
const SIDECAR_SECRET = 'guarantees-sidecar-secret-0123456789abcdef'
const KEY = crypto.getRandomValues(new Uint8Array(32))
const OLD_KEY = crypto.getRandomValues(new Uint8Array(32))
const nowSeconds = () => Math.floor(Date.now() / 1000)
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!

const redis = await ensureRedis()
let cluster: RedisClusterService | null = null
let clusterReason = ''
try {
  cluster = await startRedisCluster(3)
} catch (error) {
  clusterReason = `(no Redis Cluster could be started: ${(error as Error).message})`
  if (requireServices()) throw new Error(`${clusterReason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
  console.warn(`skipped: ${clusterReason}`)
}
afterAll(async () => {
  await cluster?.stop()
  await redis.stop?.()
})

interface Harness {
  sdk: CoreSDKClient
  /** The store behind the engine, wrapped so a case can break it. */
  store: ReturnType<typeof faultyStore>
  close(): Promise<void>
}

type StoreKind = 'memory' | 'redis' | 'cluster'

interface Backing {
  store: SessionStore
  close(): Promise<void>
}

async function backing(kind: StoreKind): Promise<Backing> {
  if (kind === 'memory') {
    const store = new MemorySessionStore()
    return { store, close: () => store.close() }
  }
  return redisStoreOver(
    kind === 'redis'
      ? new Redis(redis.url!, { maxRetriesPerRequest: 1 })
      : new Cluster(cluster!.nodes, { redisOptions: { maxRetriesPerRequest: 1 } }),
  )
}

const issuer = await TestIssuer.create({ alg: 'HS256', audience: 'guarantees-api' })

function engineConfig(store: SessionStore, extra: SDKConfig = {}): SDKConfig {
  return {
    env: {},
    tenantId: 'acme',
    serviceName: 'guarantees',
    ...extra,
    jwt: { ...issuer.jwtOptions(), clockTolerance: TOLERANCE, ...extra.jwt },
    sessions: { store, encryptionKey: KEY, ...extra.sessions },
  }
}

const modes = {
  async embedded(kind: StoreKind, extra: SDKConfig = {}): Promise<Harness> {
    const base = await backing(kind)
    const store = faultyStore(base.store)
    const sdk = new CoreSDKClient(engineConfig(store, extra))
    return {
      sdk,
      store,
      close: async () => {
        await sdk.close()
        await base.close()
      },
    }
  },
  async sidecar(kind: StoreKind, extra: SDKConfig = {}): Promise<Harness> {
    const base = await backing(kind)
    const store = faultyStore(base.store)
    const engine = new CoreSDKClient(engineConfig(store, extra))
    // getTokens() is part of the guarantees: the opt-in endpoint is on here.
    const server = createSidecarServer({
      sdk: engine,
      port: 0,
      logger: false,
      secret: SIDECAR_SECRET,
      exposeTokens: true,
    })
    const url = await server.listen()
    const sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: url,
      sidecarSecret: SIDECAR_SECRET,
      tenantId: 'acme',
      serviceName: 'guarantees',
      failMode: extra.failMode ?? 'open',
      jwt: { ...issuer.jwtOptions(), clockTolerance: TOLERANCE },
    })
    return {
      sdk,
      store,
      close: async () => {
        await sdk.close()
        await server.close()
        await engine.close()
        await base.close()
      },
    }
  },
}

const kinds: Array<[StoreKind, boolean]> = [
  ['memory', true],
  ['redis', redis.url !== null],
  ['cluster', cluster !== null],
]

for (const [modeName, start] of Object.entries(modes)) {
  for (const [kind, available] of kinds) {
    const title = `guarantees, ${modeName} mode, ${kind} store${available ? '' : ` ${kind === 'cluster' ? clusterReason : redis.reason}`}`
    describe.skipIf(!available)(title, () => {
      const open: Harness[] = []
      const harness = async (extra: SDKConfig = {}) => {
        const h = await start(kind, extra)
        open.push(h)
        return h
      }
      afterAll(async () => {
        for (const h of open.splice(0)) await h.close()
      })
      const user = (name: string) => `usr_${name}_${modeName}_${kind}_${crypto.randomUUID().slice(0, 8)}`

      it('(a) a token whose iat lies beyond the clock tolerance in the future is refused like any bad token', async () => {
        const { sdk } = await harness()
        const future = await issuer.mint({ sub: user('future') }, { now: nowSeconds() + TOLERANCE + 60 })
        const forged = `${(await issuer.mint({ sub: user('forged') })).slice(0, -4)}AAAA`
        const refused = await sdk.authenticate(bearer(future))
        const bad = await sdk.authenticate(bearer(forged))
        expect(refused.ok).toBe(false)
        if (refused.ok || bad.ok) return
        expect(refused.problem).toEqual(bad.problem)
        expect(refused.problem.body.code).toBe('invalid_token')
        // Within the tolerance an issuer's clock may run ahead: accepted.
        const ahead = await issuer.mint({ sub: user('ahead') }, { now: nowSeconds() + TOLERANCE - 1 })
        expect((await sdk.authenticate(bearer(ahead))).ok).toBe(true)
      })

      it('(a) a revoke-all refuses a token issued before it by an issuer whose clock runs ahead', async () => {
        const { sdk } = await harness()
        const sub = user('skew')
        // Issued now by an issuer 3 s ahead (iat = now + 3), never presented before the revoke-all.
        const early = await issuer.mint({ sub }, { now: nowSeconds() + 3 })
        const seen = await issuer.mint({ sub })
        expect((await sdk.authenticate(bearer(seen))).ok).toBe(true)
        await sdk.sessions().revokeAllForUser(sub)
        expect((await sdk.authenticate(bearer(seen))).ok).toBe(false)
        const result = await sdk.authenticate(bearer(early))
        expect(result.ok).toBe(false)
        if (!result.ok) expect(result.problem.body.code).toBe('invalid_token')
      })

      it('(b) every re-encoding of a token maps to its session, and stays revoked after logout', async () => {
        const { sdk } = await harness()
        const token = await issuer.mint({ sub: user('encodings'), jti: undefined, sid: undefined })
        const [head, payload, signature] = token.split('.') as [string, string, string]
        // HS256: 32 bytes in 43 characters, so the last one carries 2 unused low bits, and one `=` pads it.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
        const last = alphabet.indexOf(signature.at(-1)!)
        const variants = [
          `${head}.${payload}.${signature}=`,
          ...[1, 2, 3].map((bits) => `${head}.${payload}.${signature.slice(0, -1)}${alphabet[last ^ bits]}`),
        ]
        const first = await sdk.authenticate(bearer(token))
        expect(first.ok).toBe(true)
        if (!first.ok) return
        for (const variant of variants) {
          const again = await sdk.authenticate(bearer(variant))
          expect(again.ok, variant.slice(-4)).toBe(true)
          if (again.ok) expect(again.session?.id).toBe(first.session?.id)
        }
        await sdk.logout({ session: first.session, user: first.user })
        for (const variant of [token, ...variants])
          expect((await sdk.authenticate(bearer(variant))).ok).toBe(false)
      })

      it('(c) create() refuses a token whose session is revoked (by sid, jti or hash) or that a revoke-all covers', async () => {
        const { sdk } = await harness()
        const bySid = await issuer.mint({ sub: user('c_sid'), sid: `op_${crypto.randomUUID()}` })
        const byJti = await issuer.mint({ sub: user('c_jti'), jti: crypto.randomUUID() })
        const byHash = await issuer.mint({ sub: user('c_hash') })
        for (const token of [bySid, byJti, byHash]) {
          const seen = await sdk.authenticate(bearer(token))
          expect(seen.ok).toBe(true)
          if (!seen.ok) continue
          await sdk.logout({ session: seen.session, user: seen.user })
          await expect(sdk.sessions().create({ id_token: token })).rejects.toMatchObject({
            code: 'invalid_token',
          })
        }
        const sub = user('c_all')
        const before = await issuer.mint({ sub })
        await sdk.sessions().revokeAllForUser(sub)
        await expect(sdk.sessions().create({ id_token: before })).rejects.toMatchObject({
          code: 'invalid_token',
        })
        expect((await sdk.authenticate(bearer(before))).ok).toBe(false)
      })

      it('(d) a re-login in the same provider session renews its claims, idle expiry and tokens, with a new secret', async () => {
        const { sdk } = await harness()
        const sub = user('relogin')
        const sid = `op_${crypto.randomUUID()}`
        const one = await sdk.sessions().create({
          id_token: await issuer.mint({ sub, sid, roles: ['admin'] }),
          access_token: 'at-1',
        })
        await new Promise((resolve) => setTimeout(resolve, 20))
        const two = await sdk.sessions().create({
          id_token: await issuer.mint({ sub, sid, roles: ['reader'] }),
          access_token: 'at-2',
        })
        expect(two.id).toBe(one.id)
        expect(two.claims.roles).toEqual(['reader'])
        expect(+two.expiresAt).toBeGreaterThan(+one.expiresAt)
        expect(two.secret).not.toBe(one.secret)
        expect((await sdk.authenticate({ cookie: cookieOf(one.setCookie) })).ok).toBe(false)
        const current = await sdk.authenticate({ cookie: cookieOf(two.setCookie) })
        expect(current.ok && current.user?.roles).toEqual(['reader'])
        expect(await sdk.sessions().getTokens(two.id)).toMatchObject({ accessToken: 'at-2' })
      })

      it('(e) a store failure that is not "unreachable" fails closed with internal_error, even in open mode', async () => {
        const { sdk, store } = await harness({ failMode: 'open' })
        const token = await issuer.mint({ sub: user('broken') })
        store.setMode('broken', { message: 'ERR script failed for usr_secret_value' })
        try {
          const result = await sdk.authenticate(bearer(token))
          expect(result.ok).toBe(false)
          if (result.ok) return
          expect(result.problem.status).toBe(500)
          expect(result.problem.body.code).toBe('internal_error')
          expect(JSON.stringify(result.problem)).not.toContain('usr_secret_value')
          // Unreachable is what open mode is for: the same token passes, degraded.
          store.setMode('failing')
          const degraded = await sdk.authenticate(bearer(token))
          expect(degraded.ok && degraded.degraded).toBe(true)
        } finally {
          store.setMode('ok')
        }
      })

      it('(e) identifiers that are not well-formed strings are refused; odd but well-formed ones work and revoke', async () => {
        const { sdk } = await harness({ jwt: { maxTokenBytes: 65_536 } })
        for (const bad of ['\uD800', 'a\uDC00b']) {
          const result = await sdk.authenticate(bearer(await issuer.mint({ sub: bad })))
          expect(result.ok).toBe(false)
          if (!result.ok) expect(result.problem.body.code).toBe('invalid_token')
          const sid = await sdk.authenticate(bearer(await issuer.mint({ sub: user('bad_sid'), sid: bad })))
          expect(sid.ok).toBe(false)
        }
        await expect(sdk.sessions().revokeAllForUser('\uD800')).rejects.toMatchObject({
          code: 'invalid_request',
        })
        // Each run's own users: a revoke-all below outlives the run in a shared Redis.
        const run = crypto.randomUUID().slice(0, 8)
        const odd = ['nul\u0000inside', '{tag}', 'a:b:c', `long_${'x'.repeat(10_000)}`, 'emoji_😀'].map(
          (s) => `${s}${run}`,
        )
        for (const sub of odd) {
          const token = await issuer.mint({ sub, sid: `sid:${sub}` })
          const seen = await sdk.authenticate(bearer(token))
          expect(seen.ok ? true : seen.problem.body.code, sub.slice(0, 12)).toBe(true)
          if (!seen.ok) continue
          expect((await sdk.sessions().listForUser(sub)).map((s) => s.id)).toEqual([seen.session!.id])
          expect(await sdk.sessions().revokeAllForUser(sub)).toBe(1)
          expect((await sdk.authenticate(bearer(token))).ok).toBe(false)
        }
      })

      it('(f) a user holds at most sessions.maxPerUser active sessions: the oldest is revoked, or the new one refused', async () => {
        const { sdk } = await harness({ sessions: { maxPerUser: 3 } })
        const sub = user('capped')
        const tokens = await Promise.all([1, 2, 3, 4, 5].map((n) => issuer.mint({ sub, jti: `${sub}-${n}` })))
        const ids: string[] = []
        for (const token of tokens) {
          const seen = await sdk.authenticate(bearer(token))
          expect(seen.ok).toBe(true)
          if (seen.ok) ids.push(seen.session!.id)
        }
        const active = (await sdk.sessions().listForUser(sub)).map((s) => s.id)
        expect(active.sort()).toEqual(ids.slice(2).sort())
        // The sessions the cap revoked stay revoked: their tokens are refused. The sidecar revoked them, not this
        // client, so in sidecar mode a cached answer may stand for up to its staleness bound (sidecar.cacheTtl, 1 s).
        if (modeName === 'sidecar') await new Promise((resolve) => setTimeout(resolve, 1100))
        for (const token of tokens.slice(0, 2)) expect((await sdk.authenticate(bearer(token))).ok).toBe(false)
        const refusing = await harness({ sessions: { maxPerUser: 1, atCap: 'refuse' } })
        const other = user('refused')
        const one = await refusing.sdk.sessions().create({ id_token: await issuer.mint({ sub: other }) })
        await expect(
          refusing.sdk.sessions().create({ id_token: await issuer.mint({ sub: other, jti: `${other}-2` }) }),
        ).rejects.toMatchObject({ code: 'session_limit' })
        expect((await refusing.sdk.authenticate({ cookie: cookieOf(one.setCookie) })).ok).toBe(true)
      })

      if (modeName === 'embedded') {
        it('(h) a shared store without an encryptionKey: refused at construction with a refresher, else at the first create()', async () => {
          const base = await backing(kind)
          try {
            const shared = { ...engineConfig(base.store), sessions: { store: base.store } }
            const refresher = { refresh: async () => ({ access_token: 'x' }) }
            expect(
              () =>
                new CoreSDKClient({ ...shared, sessions: { store: base.store, tokenRefresher: refresher } }),
            ).toThrow(/CORESDK_SESSION_ENCRYPTION_KEY/)
            const keyless = new CoreSDKClient(shared)
            // Bearer tokens need no key.
            expect((await keyless.authenticate(bearer(await issuer.mint({ sub: user('keyless') })))).ok).toBe(
              true,
            )
            const login = keyless.sessions().create({ id_token: await issuer.mint({ sub: user('keyless') }) })
            await expect(login).rejects.toThrow(/CORESDK_SESSION_ENCRYPTION_KEY/)
            await keyless.close()
          } finally {
            await base.close()
          }
        })

        it('(h) refresh() never reports success with tokens it cannot open', async () => {
          const base = await backing(kind)
          const refresher = { refresh: async () => ({ access_token: 'rotated', refresh_token: 'rt-2' }) }
          const a = new CoreSDKClient(engineConfig(base.store, { sessions: { tokenRefresher: refresher } }))
          const b = new CoreSDKClient(
            engineConfig(base.store, {
              sessions: {
                tokenRefresher: refresher,
                encryptionKey: crypto.getRandomValues(new Uint8Array(32)),
              },
            }),
          )
          try {
            const created = await a.sessions().create({
              id_token: await issuer.mint({ sub: user('sealed') }),
              refresh_token: 'rt-1',
            })
            await expect(b.sessions().refresh(created.id)).rejects.toBeInstanceOf(CoreSDKError)
            expect((await a.sessions().refresh(created.id)).isActive()).toBe(true)
            expect(await a.sessions().getTokens(created.id)).toMatchObject({ accessToken: 'rotated' })
          } finally {
            await a.close()
            await b.close()
            await base.close()
          }
        })
      }

      it('(i) sessions, created sessions, the client and its configuration print no secret', async () => {
        const { sdk } = await harness()
        const created = await sdk.sessions().create({
          id_token: await issuer.mint({ sub: user('printed') }),
          refresh_token: 'refresh-token-value',
        })
        const cookieValue = cookieOf(created.setCookie).split('=')[1]!
        const shown = [
          inspect(created, { depth: 10 }),
          inspect(await sdk.sessions().get(created.id), { depth: 10 }),
          inspect(sdk, { depth: 10 }),
          inspect(sdk.config, { depth: 10 }),
          JSON.stringify(created),
          JSON.stringify(sdk.config),
          `${created}`,
        ].join('\n')
        expect(created.secret.length).toBeGreaterThan(20)
        for (const secret of [created.secret, cookieValue, 'refresh-token-value'])
          expect(shown).not.toContain(secret)
        // The JWT secret and the encryption key are bytes: neither their bytes nor an encoding of them shows.
        expect(shown).not.toMatch(/Uint8Array/)
        expect(shown).not.toContain(Buffer.from(issuer.keys.secret!).toString('base64url'))
        expect(shown).toContain(created.id)
      })

      it('(j) remember me: a browser-session cookie or a persistent one, each with its absolute expiry, which no refresh passes', async () => {
        const { sdk } = await harness({
          sessions: {
            idleTimeout: 60,
            absoluteTimeout: 3600,
            persistentTimeout: 30 * 86_400,
            touchInterval: 0,
          },
        })
        const login = async (persistent?: boolean) =>
          sdk
            .sessions()
            .create(
              { id_token: await issuer.mint({ sub: user('remember'), sid: undefined }) },
              persistent === undefined ? {} : { persistent },
            )
        const maxAge = (setCookie: string) => /; Max-Age=(\d+)/i.exec(setCookie)?.[1]
        const browser = await login(false)
        const remembered = await login(true)
        const plain = await login()
        expect(maxAge(browser.setCookie)).toBeUndefined()
        expect(browser.setCookie).not.toMatch(/Expires=/i)
        expect(Number(maxAge(remembered.setCookie))).toBeGreaterThanOrEqual(30 * 86_400 - 1)
        expect(Number(maxAge(remembered.setCookie))).toBeLessThanOrEqual(30 * 86_400)
        // The default is what it was: persistent, for the absolute timeout.
        expect(Number(maxAge(plain.setCookie))).toBeGreaterThanOrEqual(3599)
        expect(Number(maxAge(plain.setCookie))).toBeLessThanOrEqual(3600)
        // The store keeps the choice and its absolute expiry: every instance (and the sidecar) reads the same.
        const lifetime = async (id: string) => {
          const stored = (await sdk.sessions().get(id))!
          return [stored.persistent, stored.absoluteExpiresAt.getTime() - stored.createdAt.getTime()]
        }
        expect(await lifetime(browser.id)).toEqual([false, 3600_000])
        expect(await lifetime(remembered.id)).toEqual([true, 30 * 86_400_000])
        expect(await lifetime(plain.id)).toEqual([true, 3600_000])
        for (const created of [browser, remembered]) {
          const refreshed = await sdk.sessions().refresh(created.id)
          expect(refreshed.absoluteExpiresAt).toEqual(created.absoluteExpiresAt)
          expect(refreshed.expiresAt.getTime()).toBeLessThanOrEqual(created.absoluteExpiresAt.getTime())
          expect((await sdk.authenticate({ cookie: cookieOf(created.setCookie) })).ok).toBe(true)
        }
        await expect(
          sdk.sessions().create(
            { id_token: await issuer.mint({ sub: user('remember') }) },
            {
              persistent: 'yes' as unknown as boolean,
            },
          ),
        ).rejects.toMatchObject({ code: 'invalid_request' })
      })

      if (modeName === 'embedded') {
        /** Three instances over one store, before, during and after a rotation from an old key to a new one. */
        const rotation = async (sessions: SDKConfig['sessions'] = {}) => {
          const base = await backing(kind)
          const [oldKey, newKey] = [
            crypto.getRandomValues(new Uint8Array(32)),
            crypto.getRandomValues(new Uint8Array(32)),
          ]
          const instance = (keys: Uint8Array[]) =>
            new CoreSDKClient(engineConfig(base.store, { sessions: { ...sessions, encryptionKey: keys } }))
          const phases = {
            before: instance([oldKey]),
            during: instance([newKey, oldKey]),
            after: instance([newKey]),
          }
          open.push({
            sdk: phases.after,
            store: faultyStore(base.store),
            close: async () => {
              for (const sdk of Object.values(phases)) await sdk.close()
              await base.close()
            },
          })
          return { ...phases, keys: [oldKey, newKey] }
        }

        it('(k) a key rotation keeps live sessions: old tokens open, a refresh re-seals them, and a dropped key fails cleanly', async () => {
          let grants = 0
          const refresher = {
            refresh: async (refreshToken: string) => ({
              access_token: `at-${++grants}`,
              refresh_token: `${refreshToken}+`,
            }),
          }
          const { before, during, after, keys } = await rotation({ tokenRefresher: refresher })
          const login = async () =>
            before.sessions().create({
              id_token: await issuer.mint({ sub: user('rotating') }),
              access_token: 'at-0',
              refresh_token: 'rt',
            })
          const live = await login()
          const idle = await login()
          // Step 1, the new key first everywhere: what the old key sealed still opens, and refreshes.
          expect(await during.sessions().getTokens(live.id)).toMatchObject({
            accessToken: 'at-0',
            refreshToken: 'rt',
          })
          expect((await during.sessions().refresh(live.id)).isActive()).toBe(true)
          expect(grants).toBe(1)
          // The refresh sealed the rotated tokens with the new key: an instance holding only the new key opens them.
          expect(await after.sessions().getTokens(live.id)).toMatchObject({
            accessToken: 'at-1',
            refreshToken: 'rt+',
          })
          expect((await after.sessions().refresh(live.id)).isActive()).toBe(true)
          expect(await after.sessions().getTokens(live.id)).toMatchObject({ accessToken: 'at-2' })
          // Step 2, the old key dropped: a session never refreshed meanwhile cannot open its tokens, and says so
          // with a CoreSDKError naming no key; its cookie still signs in, and nothing is revoked by it.
          const refused = await after
            .sessions()
            .getTokens(idle.id)
            .catch((e: unknown) => e)
          expect(refused).toBeInstanceOf(CoreSDKError)
          expect(refused).toMatchObject({ code: 'refresh_token_invalid', status: 401 })
          expect(String((refused as Error).message)).toContain('sessions.encryptionKey')
          for (const key of keys)
            expect(inspect(refused, { depth: 10 })).not.toContain(Buffer.from(key).toString('base64url'))
          await expect(after.sessions().refresh(idle.id)).rejects.toMatchObject({
            code: 'refresh_token_invalid',
          })
          expect(grants).toBe(2)
          expect((await after.authenticate({ cookie: cookieOf(idle.setCookie) })).ok).toBe(true)
          expect((await after.sessions().get(idle.id))?.isActive()).toBe(true)
        })

        it('(k) a refresh without a refresher moves tokens sealed with an older key onto the newest', async () => {
          const { before, during, after } = await rotation()
          const created = await before
            .sessions()
            .create({ id_token: await issuer.mint({ sub: user('reseal') }), access_token: 'at-0' })
          await during.sessions().refresh(created.id)
          expect(await after.sessions().getTokens(created.id)).toMatchObject({ accessToken: 'at-0' })
        })
      }
    })
  }
}

describe('(i) a sidecar-mode client and a sidecar print no secret either', () => {
  let sdk: CoreSDKClient
  beforeAll(() => {
    sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: 'http://127.0.0.1:1',
      sidecarSecret: 'sidecar-secret-value-0123456789abcdef',
      jwt: issuer.jwtOptions(),
      sessions: { encryptionKey: [KEY, OLD_KEY] },
    })
  })
  afterAll(() => sdk.close())

  it('shows neither the sidecar secret, the JWT secret nor the encryption key', () => {
    const shown = [
      inspect(sdk, { depth: 10 }),
      inspect(sdk.config, { depth: 10 }),
      JSON.stringify(sdk.config),
    ].join('\n')
    expect(shown).not.toContain('sidecar-secret-value')
    for (const key of [KEY, OLD_KEY]) expect(shown).not.toContain(Buffer.from(key).toString('base64url'))
    expect(shown).not.toMatch(/Uint8Array/)
  })
})
