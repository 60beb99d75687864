// The per-instance cache's settings and counters, under this package's names; one definition in core serves every store.
export type {
  SessionCacheOptions as LocalCacheOptions,
  SessionCacheStats as LocalCacheStats,
} from '@coresdk/core/store'
export type {
  ConnectedPostgresSessionStore,
  ConnectPostgresSessionStoreOptions,
} from './connect-postgres-session-store.ts'
export { connectPostgresSessionStore } from './connect-postgres-session-store.ts'
export type { MigrateResult } from './migrate.ts'
export { migrate, schemaVersion } from './migrate.ts'
export { postgresPoolOptions } from './pool-options.ts'
export type { PostgresAuditSinkOptions } from './postgres-audit-sink.ts'
export { createPostgresAuditSink, readPostgresAuditLog } from './postgres-audit-sink.ts'
export type {
  PostgresSessionStore,
  PostgresSessionStoreOptions,
  SweepResult,
} from './postgres-session-store.ts'
export { createPostgresSessionStore } from './postgres-session-store.ts'
export type { SchemaOptions } from './schema.ts'
export { SCHEMA_VERSION } from './schema.ts'
