import type { RedisOptions } from 'ioredis'

/**
 * ioredis options suited to a session store on a request path: a command deadline, no offline queue (a call while
 * disconnected fails at once instead of waiting), one retry, and reconnection with capped backoff.
 * @example
 * const client = new Redis(process.env.REDIS_URL, redisClientOptions({ commandTimeout: 500 }))
 */
export function redisClientOptions(overrides: RedisOptions = {}): RedisOptions {
  return {
    commandTimeout: 1000,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // 50 ms, 100 ms, … up to 2 s between reconnection attempts, forever: the store recovers by itself.
    retryStrategy: (attempt: number) => Math.min(attempt * 50, 2000),
    ...overrides,
  }
}
