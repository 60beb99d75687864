import pg from 'pg'
import {
  createPostgresSessionStore,
  migrate,
  type PostgresSessionStore,
  type PostgresSessionStoreOptions,
  postgresPoolOptions,
} from '../src/index.ts'

/** A schema name of its own per test file and run, so that runs sharing a database never see each other. */
export function uniqueSchema(label: string): string {
  return `t_${label}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 30)
}

/** A pool with the recommended options; a broken idle connection must not crash the test process. */
export function openPool(url: string, overrides: pg.PoolConfig & { commandTimeout?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, ...postgresPoolOptions(overrides) })
  pool.on('error', () => {})
  return pool
}

/** Creates the store's tables in `schema`, and returns how to drop them again. */
export async function createSchema(url: string, schema: string): Promise<() => Promise<void>> {
  const admin = openPool(url, { commandTimeout: 10_000 })
  await migrate(admin, { schema })
  return async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
    await admin.end()
  }
}

/** A store on a pool of its own, listening for revocations; `close()` ends both. */
export async function openStore(
  url: string,
  options: Omit<PostgresSessionStoreOptions, 'pool'> & { pool?: pg.PoolConfig } = {},
): Promise<{ store: PostgresSessionStore; pool: pg.Pool; close(): Promise<void> }> {
  const { pool: poolOptions, ...storeOptions } = options
  const pool = openPool(url, { commandTimeout: storeOptions.commandTimeout, ...poolOptions })
  const store = createPostgresSessionStore({ ...storeOptions, pool })
  if (storeOptions.listener !== false) await store.ready(10_000)
  return {
    store,
    pool,
    async close() {
      await store.close()
      await pool.end()
    },
  }
}

/** The p-th percentile (0–100, nearest rank) of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}
