import { CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { ensureRedis, freePort, makeSessionRecord, TestIssuer } from '@coresdk/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisSessionStore, type RedisSessionStore, redisClientOptions } from '../src/index.ts'
import { KeyLayout } from '../src/keys.ts'
import { connect } from './helpers.ts'

const redis = await ensureRedis()
afterAll(() => redis.stop?.())

if (redis.url === null) console.warn(`skipped: ${redis.reason}`)

const keys = new KeyLayout('coresdk')

/** How a call ended: its CoreSDKError, or 'resolved'. */
async function outcome(call: Promise<unknown>): Promise<CoreSDKError | 'resolved'> {
  return call.then(
    () => 'resolved' as const,
    (error: unknown) => {
      expect(error).toBeInstanceOf(CoreSDKError)
      return error as CoreSDKError
    },
  )
}

/** Expects a failure that fails closed, whose message names nothing of the request. */
function expectInternal(result: CoreSDKError | 'resolved', secrets: string[]): void {
  expect(result).not.toBe('resolved')
  const error = result as CoreSDKError
  expect(error.code).toBe('internal_error')
  for (const secret of secrets) expect(error.message).not.toContain(secret)
}

describe.skipIf(redis.url === null)(`Redis failures that are not an outage ${redis.reason ?? ''}`, () => {
  let planter: Redis
  let client: Redis
  let store: RedisSessionStore
  let tenant: string

  beforeAll(async () => {
    planter = await connect(redis.url!)
    client = await connect(redis.url!)
    // No local cache, no subscriber: every call goes to Redis, where the fault is.
    store = createRedisSessionStore({ client, subscriber: null, localCache: false })
    tenant = `errors-${Date.now()}`
  })

  afterAll(async () => {
    await store?.close()
    client?.disconnect()
    planter?.disconnect()
  })

  it("fails closed when a key of another type sits at the user's index (WRONGTYPE inside the create script)", async () => {
    const session = makeSessionRecord({ tenantId: tenant, userId: 'usr_wrongtype_index' })
    await planter.set(keys.userIndex(tenant, session.userId), 'not a sorted set')
    expectInternal(await outcome(store.create(tenant, session)), [session.userId, session.key!])
    expectInternal(await outcome(store.listForUser(tenant, session.userId)), [session.userId])
    expectInternal(await outcome(store.revokeAllForUser(tenant, session.userId, Date.now(), 60_000)), [
      session.userId,
    ])
  })

  it('fails closed when a session key holds a string instead of a hash (WRONGTYPE on a plain command)', async () => {
    const session = makeSessionRecord({ tenantId: tenant, userId: 'usr_wrongtype_session' })
    await store.create(tenant, session)
    await planter.set(keys.session(tenant, session.userId, session.id), 'not a hash')
    expectInternal(await outcome(store.get(tenant, session.id)), [session.userId, session.id])
  })

  it('fails closed when a pointer key holds a hash, or something that is not a user id', async () => {
    const session = makeSessionRecord({ tenantId: tenant, userId: 'usr_bad_pointer' })
    await store.create(tenant, session)
    await planter.del(keys.keyPointer(tenant, session.key!))
    await planter.hset(keys.keyPointer(tenant, session.key!), 'user', session.userId)
    expectInternal(await outcome(store.getByKey(tenant, session.key!)), [session.key!, session.userId])
    await planter.set(keys.idPointer(tenant, session.id), '{not json')
    // A fresh instance, which has not learnt the session's owner from the create.
    const fresh = createRedisSessionStore({ client, subscriber: null, localCache: false })
    expectInternal(await outcome(fresh.get(tenant, session.id)), [session.id])
    await fresh.close()
  })

  it('fails closed on a record it cannot encode', async () => {
    const session = makeSessionRecord({ tenantId: tenant, claims: { sub: 'usr_bigint', n: 1n } as never })
    expectInternal(await outcome(store.create(tenant, session)), [session.userId])
  })

  it('reports store_unavailable, and only that, when the connection is refused', async () => {
    const port = await freePort()
    const refused = new Redis(port, '127.0.0.1', redisClientOptions({ retryStrategy: () => 50 }))
    refused.on('error', () => {})
    const down = createRedisSessionStore({ client: refused, subscriber: null })
    try {
      const result = await outcome(down.get(tenant, makeSessionRecord().id))
      expect(result).not.toBe('resolved')
      expect((result as CoreSDKError).code).toBe('store_unavailable')
    } finally {
      await down.close()
      refused.disconnect()
    }
  })

  it("never lets a verified token through degraded on a store error that is not an outage (failMode 'open')", async () => {
    const issuer = await TestIssuer.create({ alg: 'ES256' })
    const sdk = new CoreSDKClient({
      tenantId: tenant,
      env: {},
      failMode: 'open',
      jwt: issuer.jwtOptions(),
      sessions: { store },
    })
    try {
      const userId = 'usr_fail_closed'
      await planter.set(keys.userIndex(tenant, userId), 'not a sorted set')
      const token = await issuer.mint({ sub: userId, sid: 'sid-fail-closed' })
      const result = await sdk.authenticate({ authorization: `Bearer ${token}` }).then(
        (answer) =>
          answer.ok ? { ok: true, degraded: answer.degraded } : { ok: false, status: answer.problem.status },
        (error: unknown) => ({ ok: false, status: (error as CoreSDKError).status }),
      )
      expect(result).toEqual({ ok: false, status: 500 })
    } finally {
      await sdk.close()
    }
  })
})
