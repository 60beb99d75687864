import { createServer, type Server, type Socket } from 'node:net'
import { CoreSDKError } from '@coresdk/core'
import type { RevocationEvent } from '@coresdk/core/store'
import { type RedisServerProcess, requireServices, startRedisServer } from '@coresdk/testing'
import { makeSessionRecord } from '@coresdk/testing/vitest'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRedisSessionStore, type RedisSessionStore, redisClientOptions } from '../src/index.ts'
import { connect } from './helpers.ts'

const DEADLINE = 300
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every operation of the store, each with fresh arguments. */
function everyCall(store: RedisSessionStore, tenant: string): Array<[string, () => Promise<unknown>]> {
  const record = makeSessionRecord({ tenantId: tenant })
  return [
    ['get', () => store.get(tenant, record.id)],
    ['getByKey', () => store.getByKey(tenant, record.key!)],
    ['create', () => store.create(tenant, record)],
    ['update', () => store.update(tenant, record.id, { lastSeenAt: Date.now() })],
    ['revoke', () => store.revoke(tenant, record.id, Date.now())],
    ['revokeAllForUser', () => store.revokeAllForUser(tenant, record.userId, Date.now(), 60_000)],
    ['getUserRevokedAt', () => store.getUserRevokedAt(tenant, record.userId)],
    ['listForUser', () => store.listForUser(tenant, record.userId)],
  ]
}

async function expectAllRejectWithin(store: RedisSessionStore, limitMs: number): Promise<void> {
  for (const [name, call] of everyCall(store, 'faults')) {
    const start = performance.now()
    const outcome = await call().then(
      () => 'resolved',
      (error: unknown) => error,
    )
    const elapsed = performance.now() - start
    expect(outcome, name).toBeInstanceOf(CoreSDKError)
    expect((outcome as CoreSDKError).code, name).toBe('store_unavailable')
    expect(elapsed, `${name} took ${elapsed.toFixed(0)} ms`).toBeLessThan(limitMs)
  }
}

describe('a Redis that accepts connections and never answers (a black hole)', () => {
  let hole: Server
  let port: number
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    hole = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    port = (hole.address() as { port: number }).port
  })

  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => hole.close(resolve))
  })

  it('makes every call reject by the deadline, with the recommended client options', async () => {
    const client = new Redis(port, '127.0.0.1', redisClientOptions({ commandTimeout: DEADLINE }))
    client.on('error', () => {})
    const store = createRedisSessionStore({ client, commandTimeout: DEADLINE })
    try {
      await sleep(100)
      expect(sockets.size).toBeGreaterThan(0)
      await expectAllRejectWithin(store, DEADLINE + 1000)
      expect(store.stats().trusted).toBe(false)
    } finally {
      await store.close()
      client.disconnect()
    }
  })

  it("makes every call reject by the store's own deadline, even with ioredis defaults (offline queue, retries)", async () => {
    const client = new Redis(port, '127.0.0.1')
    client.on('error', () => {})
    const store = createRedisSessionStore({ client, commandTimeout: DEADLINE })
    try {
      await expectAllRejectWithin(store, DEADLINE + 1000)
    } finally {
      await store.close()
      client.disconnect()
    }
  })
})

let server: RedisServerProcess | null = null
let reason = ''
try {
  server = await startRedisServer()
} catch (error) {
  reason = `no redis-server could be started (${(error as Error).message})`
  if (requireServices()) throw new Error(`${reason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
}
afterAll(() => server?.stop())

describe.skipIf(server === null)(`a Redis stopped and restarted ${reason}`, () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it('fails every call while down, and works again by itself after the restart, fan-out included', async () => {
    const port = server!.port
    const fast = { commandTimeout: DEADLINE, retryStrategy: () => 100 }
    const clientA = await connect(server!.url, fast)
    const clientB = await connect(server!.url, fast)
    const a = createRedisSessionStore({ client: clientA, commandTimeout: DEADLINE })
    const b = createRedisSessionStore({ client: clientB, commandTimeout: DEADLINE })
    cleanups.push(async () => {
      await Promise.all([a.close(), b.close()])
      clientA.disconnect()
      clientB.disconnect()
    })
    await Promise.all([a.ready(), b.ready()])
    const tenant = 'restart'
    const before = makeSessionRecord({ tenantId: tenant })
    await a.create(tenant, before)
    expect((await b.get(tenant, before.id))?.id).toBe(before.id)

    await server!.stop()
    await sleep(200)
    expect(b.stats().trusted).toBe(false)
    // B forgot its cache when its subscriber dropped: it cannot vouch for a session it cannot check.
    await expect(b.get(tenant, before.id)).rejects.toBeInstanceOf(CoreSDKError)
    await expectAllRejectWithin(a, DEADLINE + 1000)
    // A revoke that cannot be written never reports success.
    await expect(a.revoke(tenant, before.id, Date.now())).rejects.toMatchObject({ code: 'store_unavailable' })

    server = await startRedisServer({ port })
    const deadline = Date.now() + 15_000
    let recovered = false
    while (!recovered && Date.now() < deadline) {
      recovered = await a.create(tenant, makeSessionRecord({ tenantId: tenant })).then(
        () => true,
        () => false,
      )
      if (!recovered) await sleep(100)
    }
    expect(recovered).toBe(true)
    await b.ready(15_000)

    const after = makeSessionRecord({ tenantId: tenant })
    await a.create(tenant, after)
    expect((await b.get(tenant, after.id))?.revokedAt).toBeNull()
    const heard = new Promise<RevocationEvent>((resolve) => {
      const off = b.onRevocation((event) => {
        if (event.kind === 'session' && event.sessionId === after.id) {
          off()
          resolve(event)
        }
      })
    })
    await a.revoke(tenant, after.id, Date.now())
    await heard
    expect((await b.get(tenant, after.id))?.revokedAt).not.toBeNull()
  })
})
