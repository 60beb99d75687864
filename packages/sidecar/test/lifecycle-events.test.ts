import {
  CoreSDKClient,
  CoreSDKError,
  type LifecycleEvent,
  lifecycleEventTypes,
  MemorySessionStore,
  type TokenRefresher,
} from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'
import { ensureRedis, type FaultyStore, faultyStore, TestIssuer } from '@coresdk/testing'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createSidecarServer } from '../src/index.ts'
import { redisStoreOver } from './helpers.ts'

// The lifecycle events of docs/sessions.md: each change reported once, by the client that asked for it, in both
// engine modes (the client's own store, and the SDK in sidecar mode against a real sidecar on an ephemeral port), on
// the memory store and on Redis; and no event holds a token or a secret.

const SIDECAR_SECRET = 'lifecycle-sidecar-secret-0123456789abcdef'
const KEY = crypto.getRandomValues(new Uint8Array(32))
const MAX_PER_USER = 5
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const settle = () => new Promise((resolve) => setTimeout(resolve, 30))

const redis = await ensureRedis()
afterAll(async () => {
  await redis.stop?.()
})

const issuer = await TestIssuer.create({ alg: 'HS256', audience: 'lifecycle-api' })

// Every refresh token this refresher hands out, so the test can look for them in the events.
const secrets: string[] = []
const refresher: TokenRefresher = {
  async refresh(refreshToken) {
    if (refreshToken.startsWith('doomed')) throw new CoreSDKError('refresh_token_invalid')
    const next = {
      access_token: `access-${crypto.randomUUID()}`,
      refresh_token: `refresh-${crypto.randomUUID()}`,
    }
    secrets.push(next.access_token, next.refresh_token)
    return next
  },
}

type Kind = 'memory' | 'redis'

interface Harness {
  sdk: CoreSDKClient
  store: FaultyStore
  events: LifecycleEvent[]
  close(): Promise<void>
}

async function backing(kind: Kind): Promise<{ store: SessionStore; close(): Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemorySessionStore()
    return { store, close: () => store.close() }
  }
  return redisStoreOver(new Redis(redis.url!, { maxRetriesPerRequest: 1 }))
}

async function start(mode: 'embedded' | 'sidecar', kind: Kind): Promise<Harness> {
  const base = await backing(kind)
  const store = faultyStore(base.store)
  const engine = new CoreSDKClient({
    env: {},
    tenantId: 'acme',
    serviceName: 'lifecycle',
    failMode: 'open',
    jwt: issuer.jwtOptions(),
    sessions: {
      store,
      encryptionKey: KEY,
      tokenRefresher: refresher,
      maxPerUser: MAX_PER_USER,
      storeTimeout: 300,
    },
  })
  let sdk = engine
  let server: ReturnType<typeof createSidecarServer> | undefined
  if (mode === 'sidecar') {
    server = createSidecarServer({ sdk: engine, port: 0, logger: false, secret: SIDECAR_SECRET })
    sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: await server.listen(),
      sidecarSecret: SIDECAR_SECRET,
      tenantId: 'acme',
      serviceName: 'lifecycle',
      sidecar: { cacheTtl: 0, timeout: 3000 },
    })
  }
  const events: LifecycleEvent[] = []
  for (const type of lifecycleEventTypes) sdk.on(type, (event: LifecycleEvent) => void events.push(event))
  return {
    sdk,
    store,
    events,
    close: async () => {
      await sdk.close()
      await server?.close()
      await engine.close()
      await base.close()
    },
  }
}

for (const mode of ['embedded', 'sidecar'] as const) {
  for (const kind of ['memory', 'redis'] as const) {
    const available = kind === 'memory' || redis.url !== null
    describe.skipIf(!available)(
      `lifecycle events, ${mode} mode, ${kind} store${available ? '' : ` (${redis.reason})`}`,
      () => {
        let harness: Harness
        const user = (name: string) => `usr_${name}_${mode}_${kind}_${crypto.randomUUID().slice(0, 8)}`
        const of = (userId: string) => harness.events.filter((e) => 'userId' in e && e.userId === userId)
        // Every token and secret a case handed the SDK or got from it: none may show in any event.
        const handed: string[] = []
        const mint = async (claims: Record<string, unknown>) => {
          const token = await issuer.mint(claims)
          handed.push(token)
          return token
        }
        const login = async (sub: string, extra: Record<string, unknown> = {}, refreshToken?: string) => {
          const idToken = await mint({ sub, email: `${sub}@example.com`, ...extra })
          const created = await harness.sdk.sessions().create({
            id_token: idToken,
            access_token: `login-access-${crypto.randomUUID()}`,
            refresh_token: refreshToken ?? `login-refresh-${crypto.randomUUID()}`,
          })
          handed.push(created.secret, created.setCookie)
          return created
        }

        // The user's one change after their logins: a user.sessions_revoked naming exactly `sessions`.
        const expectOneRevokeOfUser = (
          sub: string,
          fields: Record<string, unknown>,
          sessions: Array<{ id: string }>,
        ) => {
          const after = of(sub).filter((e) => e.type !== 'session.created')
          expect(after).toHaveLength(1)
          expect(after[0]).toMatchObject({ type: 'user.sessions_revoked', ...fields })
          const named = after[0]!.type === 'user.sessions_revoked' ? [...after[0]!.sessionIds] : []
          expect(named.sort()).toEqual(sessions.map((s) => s.id).sort())
        }

        it('starts', async () => {
          harness = await start(mode, kind)
        })
        afterAll(async () => {
          await harness?.close()
        })

        it('session.created: once for 20 concurrent first requests of one bearer token', async () => {
          const sub = user('first')
          const token = await mint({ sub })
          const results = await Promise.all(
            Array.from({ length: 20 }, () => harness.sdk.authenticate(bearer(token))),
          )
          expect(results.every((r) => r.ok)).toBe(true)
          await settle()
          const created = of(sub)
          expect(created).toHaveLength(1)
          const sessionId = results[0]!.ok ? results[0]!.session!.id : ''
          expect(created[0]).toMatchObject({
            type: 'session.created',
            tenantId: 'acme',
            actor: 'user',
            sessionId,
            userId: sub,
            origin: 'token',
          })
          expect(created[0]!.at).toBeGreaterThan(Date.now() - 10_000)
        })

        it('session.created by a login, and session.refreshed (via login) when a login continues its provider session', async () => {
          const sub = user('login')
          const first = await login(sub, { sid: `sid-${sub}` })
          const again = await login(sub, { sid: `sid-${sub}` })
          expect(again.id).toBe(first.id)
          await settle()
          expect(of(sub).map((e) => [e.type, e.actor])).toEqual([
            ['session.created', 'user'],
            ['session.refreshed', 'user'],
          ])
          expect(of(sub)[0]).toMatchObject({ origin: 'login', sessionId: first.id })
          expect(of(sub)[1]).toMatchObject({ via: 'login', rotated: true, sessionId: first.id })
        })

        it('session.refreshed: once per refresh, rotated when the refresh grant ran', async () => {
          const sub = user('refresh')
          const created = await login(sub)
          await harness.sdk.sessions().refresh(created.id)
          await settle()
          const refreshed = of(sub).filter((e) => e.type === 'session.refreshed')
          expect(refreshed).toEqual([
            expect.objectContaining({
              actor: 'service',
              via: 'refresh',
              rotated: true,
              sessionId: created.id,
            }),
          ])
        })

        it('session.revoked (refresh_token_invalid, by the system) when the provider refuses the refresh token', async () => {
          const sub = user('doomed')
          const created = await login(sub, {}, `doomed-${crypto.randomUUID()}`)
          await expect(harness.sdk.sessions().refresh(created.id)).rejects.toMatchObject({
            code: 'refresh_token_invalid',
          })
          await settle()
          expect(of(sub).filter((e) => e.type !== 'session.created')).toEqual([
            expect.objectContaining({
              type: 'session.revoked',
              actor: 'system',
              reason: 'refresh_token_invalid',
              sessionId: created.id,
            }),
          ])
        })

        it('session.revoked: once, with the actor asked for; a second revoke changes nothing and reports nothing', async () => {
          const sub = user('revoke')
          const created = await login(sub)
          expect(await harness.sdk.sessions().revoke(created.id, { actor: 'admin' })).toBe(true)
          expect(await harness.sdk.sessions().revoke(created.id)).toBe(true)
          await settle()
          expect(of(sub).filter((e) => e.type === 'session.revoked')).toEqual([
            expect.objectContaining({
              actor: 'admin',
              reason: 'requested',
              sessionId: created.id,
              tenantId: 'acme',
            }),
          ])
          await expect(
            harness.sdk.sessions().revoke(created.id, { actor: 'root' as 'admin' }),
          ).rejects.toMatchObject({
            code: 'invalid_request',
          })
        })

        it('a logout reports the user as the actor', async () => {
          const sub = user('logout')
          const created = await login(sub)
          await harness.sdk.logout({ session: created, user: { sub } })
          await settle()
          expect(of(sub).filter((e) => e.type === 'session.revoked')).toEqual([
            expect.objectContaining({ actor: 'user', sessionId: created.id }),
          ])
        })

        it('user.sessions_revoked: one event for a revoke-all, naming its sessions, and no session.revoked for each', async () => {
          const sub = user('all')
          const sessions = [await login(sub), await login(sub)]
          expect(await harness.sdk.sessions().revokeAllForUser(sub, { actor: 'idp' })).toBe(2)
          await settle()
          expectOneRevokeOfUser(sub, { actor: 'idp', scope: 'all', keptSessionId: null }, sessions)
        })

        it('user.sessions_revoked: one event for a revoke-others, the kept session named; none when nothing was left', async () => {
          const sub = user('others')
          const [kept, ...rest] = [await login(sub), await login(sub), await login(sub)]
          expect(await harness.sdk.logout({ session: kept, user: { sub }, others: true })).toEqual({
            revoked: 2,
            setCookie: [],
          })
          expect(await harness.sdk.sessions().revokeOthersForUser(sub, kept!.id)).toBe(0)
          await settle()
          expectOneRevokeOfUser(sub, { actor: 'user', scope: 'others', keptSessionId: kept!.id }, rest)
          expect((await harness.sdk.sessions().get(kept!.id))?.isActive()).toBe(true)
        })

        it('revoke-others refuses a kept session that is not the user’s (invalid_request), and revokes nothing', async () => {
          const sub = user('mine')
          const mine = await login(sub)
          const theirs = await login(user('theirs'))
          await expect(harness.sdk.sessions().revokeOthersForUser(sub, theirs.id)).rejects.toMatchObject({
            code: 'invalid_request',
          })
          await expect(
            harness.sdk.sessions().revokeOthersForUser(sub, 'sess_00000000000000000000000000'),
          ).rejects.toMatchObject({ code: 'invalid_request' })
          await settle()
          expect(of(sub).map((e) => e.type)).toEqual(['session.created'])
          expect((await harness.sdk.sessions().get(mine.id))?.isActive()).toBe(true)
        })

        it('session.revoked (session_limit, by the system) for the session the per-user cap revoked', async () => {
          const sub = user('cap')
          const sessions = []
          for (let i = 0; i <= MAX_PER_USER; i++) sessions.push(await login(sub))
          await settle()
          expect(of(sub).filter((e) => e.type === 'session.revoked')).toEqual([
            expect.objectContaining({ actor: 'system', reason: 'session_limit', sessionId: sessions[0]!.id }),
          ])
          expect(of(sub).filter((e) => e.type === 'session.created')).toHaveLength(MAX_PER_USER + 1)
        })

        it('auth.degraded: once per spell of the store being unreachable, again after it came back and went away', async () => {
          const tokens = await Promise.all([1, 2, 3].map((i) => mint({ sub: user(`degraded${i}`) })))
          const degraded = () => harness.events.filter((e) => e.type === 'auth.degraded')
          const before = degraded().length
          harness.store.setMode('failing')
          try {
            for (const token of tokens)
              expect(await harness.sdk.authenticate(bearer(token))).toMatchObject({
                ok: true,
                degraded: true,
              })
            await settle()
            expect(degraded().slice(before)).toEqual([
              expect.objectContaining({
                type: 'auth.degraded',
                reason: 'store_unavailable',
                actor: 'system',
                tenantId: 'acme',
              }),
            ])
            harness.store.setMode('ok')
            expect(await harness.sdk.authenticate(bearer(tokens[0]!))).toMatchObject({
              ok: true,
              degraded: false,
            })
            harness.store.setMode('failing')
            expect(await harness.sdk.authenticate(bearer(tokens[1]!))).toMatchObject({
              ok: true,
              degraded: true,
            })
            await settle()
            expect(degraded().slice(before)).toHaveLength(2)
          } finally {
            harness.store.setMode('ok')
          }
        })

        it('a listener that throws, rejects or never settles neither breaks nor delays the change', async () => {
          const offs = [
            harness.sdk.on('session.revoked', () => {
              throw new Error('listener bug')
            }),
            harness.sdk.on('session.revoked', async () => {
              throw new Error('async listener bug')
            }),
            harness.sdk.on('session.revoked', () => new Promise(() => {})),
          ]
          try {
            const sub = user('listeners')
            const created = await login(sub)
            const started = Date.now()
            expect(await harness.sdk.sessions().revoke(created.id)).toBe(true)
            expect(Date.now() - started).toBeLessThan(1000)
            await settle()
            expect(of(sub).filter((e) => e.type === 'session.revoked')).toHaveLength(1)
            expect((await harness.sdk.sessions().get(created.id))?.revokedAt).not.toBeNull()
          } finally {
            for (const off of offs) off()
          }
        })

        it('no event holds a token, a secret or a claim value other than the user id', async () => {
          expect(harness.events.length).toBeGreaterThan(10)
          const written = JSON.stringify(harness.events)
          const forbidden = [
            ...handed,
            ...secrets,
            SIDECAR_SECRET,
            Buffer.from(KEY).toString('base64url'),
            '@example.com',
          ]
          for (const value of forbidden) expect(written.includes(value), value.slice(0, 12)).toBe(false)
          // Nor any JWT-shaped string, nor a cookie value (`sess_….<secret>`).
          expect(written).not.toMatch(/eyJ[\w-]+\.[\w-]+\./)
          expect(written).not.toMatch(/sess_\w+\.\w/)
          for (const event of harness.events) expect(Object.isFrozen(event)).toBe(true)
        })
      },
    )
  }
}
