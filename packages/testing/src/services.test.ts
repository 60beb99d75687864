import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  ensurePostgres,
  ensureRedis,
  freePort,
  pingPostgres,
  pingRedis,
  requireServices,
  startRedisServer,
} from './services.ts'

const listen = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()))
  })

describe('services', () => {
  it('freePort gives a port that can be listened on', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(0)
    await listen(port)
  })

  it('requireServices reads CORESDK_REQUIRE_SERVICES', () => {
    expect(requireServices({ CORESDK_REQUIRE_SERVICES: '1' })).toBe(true)
    expect(requireServices({})).toBe(false)
  })

  it('pingRedis is false for a port nothing listens on', async () => {
    expect(await pingRedis(`redis://127.0.0.1:${await freePort()}`)).toBe(false)
  })

  it('ensureRedis starts a redis-server of its own when REDIS_URL does not answer, and stop() ends it', async () => {
    const redis = await ensureRedis({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` })
    if (redis.url === null) {
      expect(requireServices()).toBe(false)
      return
    }
    expect(redis.stop).not.toBeNull()
    expect(await pingRedis(redis.url)).toBe(true)
    await redis.stop?.()
    expect(await pingRedis(redis.url)).toBe(false)
  })

  it('pingPostgres is false for a port nothing listens on, or something that is not PostgreSQL', async () => {
    expect(await pingPostgres(`postgres://postgres@127.0.0.1:${await freePort()}/test`)).toBe(false)
    expect(await pingPostgres('not a url')).toBe(false)
  })

  it('ensurePostgres starts a cluster of its own when DATABASE_URL does not answer, and stop() ends it', async () => {
    const postgres = await ensurePostgres({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test`,
    })
    if (postgres.url === null) {
      expect(requireServices()).toBe(false)
      return
    }
    expect(postgres.stop).not.toBeNull()
    expect(await pingPostgres(postgres.url)).toBe(true)
    await postgres.stop?.()
    expect(await pingPostgres(postgres.url)).toBe(false)
  }, 60_000)

  it('startRedisServer rejects a port already taken', async () => {
    const server = await startRedisServer().catch(() => null)
    if (server === null) return
    try {
      await expect(startRedisServer({ port: server.port })).rejects.toThrow()
    } finally {
      await server.stop()
    }
  })
})
