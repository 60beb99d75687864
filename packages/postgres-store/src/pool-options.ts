import type { PoolConfig } from 'pg'

/**
 * node-postgres pool settings suited to a session store on a request path, all bounded by one deadline: waiting for a
 * pooled connection (`connectionTimeoutMillis`), the server's work on a statement (`statement_timeout`), lock waits
 * (`lock_timeout`) and the client's wait for a reply (`query_timeout`); TCP keep-alive on every connection.
 * @example
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL, ...postgresPoolOptions({ commandTimeout: 500 }) })
 */
export function postgresPoolOptions(options: { commandTimeout?: number } & PoolConfig = {}): PoolConfig {
  const { commandTimeout = 1000, ...overrides } = options
  return {
    max: 10,
    connectionTimeoutMillis: commandTimeout,
    statement_timeout: commandTimeout,
    lock_timeout: commandTimeout,
    query_timeout: commandTimeout,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'coresdk',
    ...overrides,
  }
}
