import { CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { type AuditEntry, createAuditTrail, verifyAuditChain } from '@coresdk/core/audit'
import { ensureRedis, freePort } from '@coresdk/testing'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisAuditSink, createRedisSessionStore, readRedisAuditStream } from '../src/index.ts'
import { connect } from './helpers.ts'

const redis = await ensureRedis()
afterAll(() => redis.stop?.())

const entry = (userId: string): AuditEntry => ({
  at: Date.now(),
  type: 'user.sessions_revoked',
  tenantId: 'acme',
  actor: 'admin',
  userId,
  scope: 'all',
  keptSessionId: null,
  sessionIds: [],
})

async function readAll(client: Redis, stream: string): Promise<string[]> {
  const lines: string[] = []
  for await (const line of readRedisAuditStream(client, stream, 7)) lines.push(line)
  return lines
}

describe.skipIf(redis.url === null)(`the Redis audit sink ${redis.reason ?? ''}`, () => {
  it('two instances appending at once to one stream write one valid chain', async () => {
    const stream = `audit-test:${crypto.randomUUID()}:audit`
    const [one, two, reader] = await Promise.all([
      connect(redis.url!),
      connect(redis.url!),
      connect(redis.url!),
    ])
    const sinks = [
      createRedisAuditSink({ client: one, stream }),
      createRedisAuditSink({ client: two, stream }),
    ]
    // Each instance appends its batches one at a time (as a trail does), both instances at once.
    await Promise.all(
      sinks.map(async (sink, instance) => {
        for (let i = 0; i < 40; i++) {
          const size = 1 + (i % 3)
          const records = await sink.append(
            Array.from({ length: size }, (_, j) => entry(`usr_${instance}_${i}_${j}`)),
          )
          expect(records).toHaveLength(size)
        }
      }),
    )
    const lines = await readAll(reader, stream)
    const perInstance = Array.from({ length: 40 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b)
    expect(lines).toHaveLength(2 * perInstance)
    const result = await verifyAuditChain(lines)
    expect(result).toMatchObject({ ok: true, count: lines.length })
    // Both instances' records are in the one chain, interleaved.
    const users = lines.map((line) => JSON.parse(line).userId as string)
    expect(users.some((u) => u.startsWith('usr_0_'))).toBe(true)
    expect(users.some((u) => u.startsWith('usr_1_'))).toBe(true)
    await reader.del(stream)
    for (const client of [one, two, reader]) client.disconnect()
  })

  it('two CoreSDK clients on one Redis, each with a trail, audit concurrent revocations in one chain', async () => {
    const stream = `audit-test:${crypto.randomUUID()}:audit`
    const key = crypto.getRandomValues(new Uint8Array(32))
    const instances = await Promise.all(
      [0, 1].map(async () => {
        const client = await connect(redis.url!)
        const store = createRedisSessionStore({ client, subscriber: null })
        const sdk = new CoreSDKClient({
          env: {},
          tenantId: 'acme',
          jwt: {
            issuer: 'https://id.example',
            audience: 'api',
            algorithms: ['HS256'],
            secret: 'k'.repeat(32),
          },
          sessions: { store, encryptionKey: key },
        })
        const trail = createAuditTrail(sdk, { sink: createRedisAuditSink({ client, stream }) })
        return { client, sdk, trail }
      }),
    )
    await Promise.all(
      instances.flatMap(({ sdk }, n) =>
        Array.from({ length: 25 }, (_, i) =>
          sdk.sessions().revokeAllForUser(`usr_${n}_${i}`, { actor: n === 0 ? 'admin' : 'service' }),
        ),
      ),
    )
    for (const { trail } of instances) await trail.flush()
    const lines = await readAll(instances[0]!.client, stream)
    expect(lines).toHaveLength(50)
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: true, count: 50 })
    for (const { trail } of instances) expect(trail.lost).toBe(0)
    await instances[0]!.client.del(stream)
    for (const { sdk, trail, client } of instances) {
      await trail.close()
      await sdk.close()
      client.disconnect()
    }
  })

  it('ids with control characters, quotes and lone surrogates reach Redis as JSON text and verify', async () => {
    const stream = `audit-test:${crypto.randomUUID()}:audit`
    const client = await connect(redis.url!)
    const sink = createRedisAuditSink({ client, stream })
    await sink.append([entry('usr_\u001b[31m"\\\ud800 \n:{x}')])
    const lines = await readAll(client, stream)
    expect(JSON.parse(lines[0]!).userId).toBe('usr_\u001b[31m"\\\ud800 \n:{x}')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(lines[0]).not.toMatch(/[\u0000-\u001f]/)
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: true, count: 1 })
    // A second sink over the same stream goes on from the tail it finds.
    await createRedisAuditSink({ client, stream }).append([entry('usr_next')])
    expect(await verifyAuditChain(await readAll(client, stream))).toMatchObject({ ok: true, count: 2 })
    await client.del(stream)
    client.disconnect()
  })

  it('an unreachable Redis fails the append within its deadline, as store_unavailable', async () => {
    const port = await freePort()
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    const sink = createRedisAuditSink({ client, timeout: 300 })
    const started = performance.now()
    const error = await sink.append([entry('usr_a')]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CoreSDKError)
    expect((error as CoreSDKError).code).toBe('store_unavailable')
    expect(performance.now() - started).toBeLessThan(1500)
    client.disconnect()
  })

  it('refuses a stream key with braces or spaces, naming the setting', async () => {
    const client = new Redis({ lazyConnect: true })
    expect(() => createRedisAuditSink({ client, stream: 'a {b}' })).toThrow(/stream/)
    expect(() => createRedisAuditSink({ client: {} as never })).toThrow(/client/)
    client.disconnect()
  })
})
