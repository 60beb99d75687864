import { once } from 'node:events'
import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net'
import { CoreSDKError } from '@coresdk/core'
import { ensureRedis } from '@coresdk/testing'
import { makeSessionRecord } from '@coresdk/testing/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { connectRedisSessionStore } from '../src/index.ts'
import { whenReady } from './helpers.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A logger that keeps what it is given. */
function recordingLogger(): { lines: string[]; warn(message: string): void } {
  const lines: string[] = []
  return { lines, warn: (message) => lines.push(message) }
}

/**
 * A TCP relay on a port of its own in front of the shared Redis, so a test can take Redis away and bring it back
 * without touching the server other tests use: `cut()` closes the port and every connection through it.
 */
async function startGate(target: URL): Promise<{ url: string; cut(): Promise<void>; open(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let server: Server | null = null
  let port = 0
  const open = async () => {
    server = createServer((socket) => {
      const upstream = connectTcp(Number(target.port || 6379), target.hostname)
      for (const side of [socket, upstream]) {
        sockets.add(side)
        side.on('error', () => {})
        side.on('close', () => {
          sockets.delete(side)
          socket.destroy()
          upstream.destroy()
        })
      }
      socket.pipe(upstream).pipe(socket)
    })
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  }
  const cut = async () => {
    const closed = new Promise((resolve) => server?.close(resolve))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  await open()
  return { url: `redis://127.0.0.1:${port}`, cut, open }
}

async function waitForLines(lines: string[], count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (lines.length < count) {
    if (Date.now() > deadline) throw new Error(`${count} log lines expected, got ${JSON.stringify(lines)}`)
    await sleep(20)
  }
}

it('refuses a store option the store refuses', () => {
  expect(() =>
    connectRedisSessionStore({
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'has space',
      logger: recordingLogger(),
    }),
  ).toThrow(CoreSDKError)
})

const redis = await ensureRedis()
afterAll(() => redis.stop?.())
if (redis.url === null) console.warn(`skipped: ${redis.reason}`)

describe.skipIf(redis.url === null)(`connectRedisSessionStore ${redis.reason ?? ''}`, () => {
  it('opens a client with the request-path options and the deadline, and a store that works over it', async () => {
    const logger = recordingLogger()
    const connected = connectRedisSessionStore({ url: redis.url!, commandTimeout: 250, logger })
    try {
      expect(connected.client.options).toMatchObject({
        commandTimeout: 250,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
      })
      await connected.store.ready()
      const record = makeSessionRecord({ tenantId: 'connect' })
      expect((await connected.store.create('connect', record)).created).toBe(true)
      expect((await connected.store.get('connect', record.id))?.id).toBe(record.id)
      expect(logger.lines).toEqual([])
    } finally {
      await connected.close()
    }
  })

  it('closes the store and the client', async () => {
    const connected = connectRedisSessionStore({ url: redis.url!, logger: recordingLogger() })
    await whenReady(connected.client)
    const ended = once(connected.client, 'end')
    await connected.close()
    await ended
    await expect(connected.store.get('connect', makeSessionRecord().id)).rejects.toMatchObject({
      code: 'store_unavailable',
    })
  })

  it('logs an outage once however many reconnections fail, then its recovery once, and closes while down', async () => {
    const gate = await startGate(new URL(redis.url!))
    const logger = recordingLogger()
    const connected = connectRedisSessionStore({ url: gate.url, commandTimeout: 300, logger })
    try {
      await whenReady(connected.client)
      await gate.cut()
      await waitForLines(logger.lines, 1)
      // Reconnection attempts go on (50 ms, 100 ms, …) and fail: each one emits 'error', none is logged again.
      await sleep(1000)
      expect(logger.lines).toEqual([expect.stringMatching(/^redis unavailable \(\w+\); reconnecting$/)])
      await expect(connected.store.get('connect', makeSessionRecord().id)).rejects.toMatchObject({
        code: 'store_unavailable',
      })

      await gate.open()
      await waitForLines(logger.lines, 2)
      await sleep(200)
      expect(logger.lines.slice(1)).toEqual(['redis available again'])
      await connected.store.ready(15_000)

      await gate.cut()
      await waitForLines(logger.lines, 3)
      expect(logger.lines.join('\n')).not.toContain(new URL(gate.url).port)
    } finally {
      // With Redis gone there is no QUIT to send: close must still resolve, and stop the reconnection attempts.
      await connected.close()
    }
    let attempts = 0
    connected.client.on('reconnecting', () => attempts++)
    await sleep(1000)
    expect(attempts).toBe(0)
  }, 30_000)
})
