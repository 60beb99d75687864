import pg from 'pg'
import { migrate } from './migrate.ts'
import { postgresPoolOptions } from './pool-options.ts'
import {
  createPostgresSessionStore,
  type PostgresSessionStore,
  type PostgresSessionStoreOptions,
} from './postgres-session-store.ts'

/** Options of {@link connectPostgresSessionStore}: the store's options, with a URL in place of a pool. */
export interface ConnectPostgresSessionStoreOptions extends Omit<PostgresSessionStoreOptions, 'pool'> {
  /** The database, as node-postgres takes it (`postgres://user:password@host:5432/db`, `?sslmode=…`). */
  url: string
  /** The deadline of each statement and store operation, in ms; keep it at or below `sessions.storeTimeout`. @default 1000 */
  commandTimeout?: number
  /** The most connections the pool opens (the listener's one comes on top). @default 10 */
  maxConnections?: number
  /** Run {@link migrate} before the store is handed out. @default true */
  migrate?: boolean
  /** Where the one line about an outage, and the one about its recovery, are written. @default console */
  logger?: { warn(message: string): void }
}

/** A store connected by {@link connectPostgresSessionStore}, with the pool it opened. */
export interface ConnectedPostgresSessionStore {
  store: PostgresSessionStore
  /** The pool the store runs its statements on (for health checks or your own tables). */
  pool: pg.Pool
  /** Closes the store, then the pool. */
  close(): Promise<void>
}

/**
 * Opens a node-postgres pool with {@link postgresPoolOptions}, brings the schema up to date (unless `migrate: false`)
 * and creates a {@link createPostgresSessionStore} over it, everything bounded by `commandTimeout`. Connection errors
 * are logged once per outage (the error's code only, never the URL, which may hold a password), and so is the
 * recovery; requests meanwhile follow CoreSDK's `failMode`. Rejects when the migration cannot run.
 * @example
 * const postgres = await connectPostgresSessionStore({ url: process.env.DATABASE_URL, commandTimeout: 500 })
 * const sdk = new CoreSDKClient({ sessions: { store: postgres.store, storeTimeout: 500 } })
 * // on shutdown
 * await sdk.close()
 * await postgres.close()
 */
export async function connectPostgresSessionStore(
  options: ConnectPostgresSessionStoreOptions,
): Promise<ConnectedPostgresSessionStore> {
  const {
    url,
    logger = console,
    maxConnections = 10,
    migrate: runMigrations = true,
    ...storeOptions
  } = options
  const commandTimeout = options.commandTimeout ?? 1000
  const pool = new pg.Pool({
    connectionString: url,
    ...postgresPoolOptions({ commandTimeout, max: maxConnections }),
  })
  let down = false
  // An idle pooled connection that breaks emits 'error' on the pool: without a listener it would end the process.
  pool.on('error', (error: Error & { code?: string }) => {
    if (!down) logger.warn(`postgres unavailable (${error.code ?? 'connection lost'}); reconnecting`)
    down = true
  })
  pool.on('connect', () => {
    if (down) logger.warn('postgres available again')
    down = false
  })
  let store: PostgresSessionStore
  try {
    if (runMigrations) await migrate(pool, storeOptions)
    store = createPostgresSessionStore({ ...storeOptions, pool, commandTimeout })
  } catch (error) {
    // A configuration mistake or a failed migration must not leave connections open.
    await pool.end().catch(() => {})
    throw error
  }
  return {
    store,
    pool,
    async close() {
      await store.close()
      await pool.end()
    },
  }
}
