// The per-instance cache's settings and counters, under this package's names; one definition in core serves every store.
export type {
  SessionCacheOptions as LocalCacheOptions,
  SessionCacheStats as LocalCacheStats,
} from '@coresdk/core/store'
export { redisClientOptions } from './client-options.ts'
export type {
  ConnectedRedisSessionStore,
  ConnectRedisSessionStoreOptions,
} from './connect-redis-session-store.ts'
export { connectRedisSessionStore } from './connect-redis-session-store.ts'
export type { RedisAuditSinkOptions } from './redis-audit-sink.ts'
export { createRedisAuditSink, readRedisAuditStream } from './redis-audit-sink.ts'
export type { RedisClient, RedisSessionStore, RedisSessionStoreOptions } from './redis-session-store.ts'
export { createRedisSessionStore } from './redis-session-store.ts'
