export { redisClientOptions } from './client-options.ts'
export type {
  ConnectedRedisSessionStore,
  ConnectRedisSessionStoreOptions,
} from './connect-redis-session-store.ts'
export { connectRedisSessionStore } from './connect-redis-session-store.ts'
export type { LocalCacheOptions, LocalCacheStats } from './local-cache.ts'
export type { RedisClient, RedisSessionStore, RedisSessionStoreOptions } from './redis-session-store.ts'
export { createRedisSessionStore } from './redis-session-store.ts'
