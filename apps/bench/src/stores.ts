import type { SessionStore } from '@coresdk/core'

interface RedisStoreModule {
  createRedisSessionStore(options: {
    client: unknown
    keyPrefix?: string
  }): SessionStore & { ready?(timeoutMs?: number): Promise<void> }
  redisClientOptions?(): Record<string, unknown>
}

/** Where sessions live in a measurement. */
export type StoreKind = 'memory' | 'redis'

/** A store ready for a CoreSDK client, or why it cannot be had here. */
export type StoreResult =
  | { ok: true; store: SessionStore | undefined; close(): Promise<void> }
  | { ok: false; reason: string }

/**
 * The memory store (undefined: CoreSDK's default) or `@coresdk/redis-store` on its own ioredis client. A missing
 * package or an unreachable Redis is reported, not thrown, so the bench can print `n/a` for that row.
 */
export async function openStore(kind: StoreKind, redisUrl: string, keyPrefix: string): Promise<StoreResult> {
  if (kind === 'memory') return { ok: true, store: undefined, close: async () => {} }
  let redisStore: RedisStoreModule
  try {
    redisStore = (await import('@coresdk/redis-store')) as unknown as RedisStoreModule
    if (typeof redisStore.createRedisSessionStore !== 'function')
      throw new Error('no createRedisSessionStore export')
  } catch {
    return { ok: false, reason: 'not available' }
  }
  const { Redis } = await import('ioredis')
  const client = new Redis(redisUrl, { ...redisStore.redisClientOptions?.(), lazyConnect: true })
  // A failed connection is reported below; ioredis would otherwise also print it as an unhandled error event.
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch {
    client.disconnect()
    return { ok: false, reason: 'Redis unreachable' }
  }
  const store = redisStore.createRedisSessionStore({ client, keyPrefix })
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
