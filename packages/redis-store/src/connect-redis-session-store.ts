import { Redis } from 'ioredis'
import { redisClientOptions } from './client-options.ts'
import {
  createRedisSessionStore,
  type RedisSessionStore,
  type RedisSessionStoreOptions,
} from './redis-session-store.ts'

/** Options of {@link connectRedisSessionStore}: the store's options, with a URL in place of a client. */
export interface ConnectRedisSessionStoreOptions extends Omit<RedisSessionStoreOptions, 'client'> {
  /** The Redis server, as ioredis takes it (`redis://host:port/db`, `rediss://…` for TLS). */
  url: string
  /** The deadline of each Redis command and store operation, in ms; keep it at or below `sessions.storeTimeout`. @default 1000 */
  commandTimeout?: number
  /** Where the one line about an outage, and the one about its recovery, are written. @default console */
  logger?: { warn(message: string): void }
}

/** A store connected by {@link connectRedisSessionStore}, with the client it opened. */
export interface ConnectedRedisSessionStore {
  store: RedisSessionStore
  /** The ioredis client the store sends commands through (for health checks or other keys). */
  client: Redis
  /** Closes the store, then the client. */
  close(): Promise<void>
}

/**
 * Opens an ioredis client with {@link redisClientOptions} and a {@link createRedisSessionStore} over it, both bounded
 * by `commandTimeout`. The client reconnects by itself; an outage is logged once (the error's code only, never the
 * URL, which may hold a password) and so is its recovery, so that a Redis outage neither floods the log nor reaches
 * the process as an unhandled 'error' event. Requests meanwhile follow CoreSDK's `failMode`.
 * @example
 * const redis = connectRedisSessionStore({ url: process.env.REDIS_URL, commandTimeout: 500 })
 * const sdk = new CoreSDKClient({ sessions: { store: redis.store, storeTimeout: 500 } })
 * // on shutdown
 * await sdk.close()
 * await redis.close()
 */
export function connectRedisSessionStore(
  options: ConnectRedisSessionStoreOptions,
): ConnectedRedisSessionStore {
  const { url, logger = console, ...storeOptions } = options
  const commandTimeout = options.commandTimeout ?? 1000
  const client = new Redis(url, redisClientOptions({ commandTimeout }))
  let down = false
  client.on('error', (error: Error & { code?: string }) => {
    if (!down) logger.warn(`redis unavailable (${error.code ?? 'error'}); reconnecting`)
    down = true
  })
  client.on('ready', () => {
    if (down) logger.warn('redis available again')
    down = false
  })
  let store: RedisSessionStore
  try {
    store = createRedisSessionStore({ ...storeOptions, client, commandTimeout })
  } catch (error) {
    // A configuration mistake must not leave a connection retrying in the background.
    client.disconnect()
    throw error
  }
  return {
    store,
    client,
    async close() {
      await store.close()
      // QUIT needs a connection; while Redis is away there is nothing to say goodbye to.
      await client.quit().catch(() => client.disconnect())
    },
  }
}
