import type { SessionStore } from '@coresdk/core/store'
import type { Fixture } from './fixture.ts'

interface RedisStoreModule {
  createRedisSessionStore(options: {
    client: unknown
    keyPrefix?: string
    localCache?: { maxStaleness?: number }
  }): SessionStore & { ready?(timeoutMs?: number): Promise<void> }
  redisClientOptions?(): Record<string, unknown>
}

/** Where sessions live in a measurement. */
export type StoreKind = 'memory' | 'redis' | 'postgres'

/** A store ready for a CoreSDK client, or why it cannot be had here. */
export type StoreResult =
  | { ok: true; store: SessionStore | undefined; close(): Promise<void> }
  | { ok: false; reason: string }

/** The PostgreSQL schema of one bench run (dropped at the end of the run). */
export function benchSchema(fixture: Pick<Fixture, 'runId'>): string {
  return `bench_${fixture.runId}`.toLowerCase()
}

function localCache(fixture: Fixture): { localCache?: { maxStaleness: number } } {
  return fixture.cacheStaleness === undefined ? {} : { localCache: { maxStaleness: fixture.cacheStaleness } }
}

async function openRedis(fixture: Fixture): Promise<StoreResult> {
  let redisStore: RedisStoreModule
  try {
    redisStore = (await import('@coresdk/redis-store')) as unknown as RedisStoreModule
    if (typeof redisStore.createRedisSessionStore !== 'function')
      throw new Error('no createRedisSessionStore export')
  } catch {
    return { ok: false, reason: 'not available' }
  }
  const { Redis } = await import('ioredis')
  const client = new Redis(fixture.redisUrl, { ...redisStore.redisClientOptions?.(), lazyConnect: true })
  // A failed connection is reported below; ioredis would otherwise also print it as an unhandled error event.
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch {
    client.disconnect()
    return { ok: false, reason: 'Redis unreachable' }
  }
  const store = redisStore.createRedisSessionStore({
    client,
    keyPrefix: `bench-${fixture.runId}`,
    ...localCache(fixture),
  })
  // The local cache is used only once the revocation channel is subscribed: measure the store as it runs warm.
  await store.ready?.(5000).catch(() => {})
  return {
    ok: true,
    store,
    async close() {
      await store.close?.()
      client.disconnect()
    },
  }
}

async function openPostgres(fixture: Fixture): Promise<StoreResult> {
  let postgresStore: typeof import('@coresdk/postgres-store')
  try {
    postgresStore = await import('@coresdk/postgres-store')
  } catch (error) {
    return { ok: false, reason: `not available (${String(error).split('\n')[0]})` }
  }
  try {
    // Migrates the run's schema on first use (several workers at once take turns).
    const connected = await postgresStore.connectPostgresSessionStore({
      url: fixture.databaseUrl,
      schema: benchSchema(fixture),
      logger: { warn() {} },
      ...localCache(fixture),
    })
    await connected.store.ready(5000).catch(() => {})
    return { ok: true, store: connected.store, close: connected.close }
  } catch {
    return { ok: false, reason: 'PostgreSQL unreachable' }
  }
}

/**
 * The memory store (undefined: CoreSDK's default), `@coresdk/redis-store` on its own ioredis client, or
 * `@coresdk/postgres-store` on its own pool. A missing package or an unreachable server is reported, not thrown, so
 * the bench can print `n/a` for that row.
 */
export async function openStore(kind: StoreKind, fixture: Fixture): Promise<StoreResult> {
  if (kind === 'memory') return { ok: true, store: undefined, close: async () => {} }
  return kind === 'redis' ? openRedis(fixture) : openPostgres(fixture)
}
