import { createHash } from 'node:crypto'
import type { Pool, PoolClient } from 'pg'
import { MIGRATIONS, SchemaNames, type SchemaOptions } from './schema.ts'

/** What {@link migrate} did. */
export interface MigrateResult {
  /** The schema version before the run (0: none). */
  from: number
  /** The schema version after it. */
  to: number
  /** The versions this run applied, in order. */
  applied: number[]
}

/** The advisory lock that serializes migrations of one schema and prefix across processes. */
function migrationLock(names: SchemaNames): string {
  return createHash('sha256').update(`coresdk-migrate:${names.tag}`).digest().readBigInt64BE(0).toString()
}

async function appliedVersions(client: PoolClient, names: SchemaNames): Promise<Set<number>> {
  const result = await client.query<{ version: number }>(`SELECT version FROM ${names.migrations}`)
  return new Set(result.rows.map((row) => Number(row.version)))
}

/**
 * Brings the store's schema to the version this package needs: creates the schema when missing, then applies each
 * migration not yet recorded, each in its own transaction. Safe to run from many processes at once (an advisory
 * lock makes them take turns) and again at every start (it does nothing when up to date).
 * @example
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL })
 * await migrate(pool, { schema: 'public', tablePrefix: 'coresdk_' })
 */
export async function migrate(pool: Pool, options: SchemaOptions = {}): Promise<MigrateResult> {
  const names = new SchemaNames(options)
  const client = await pool.connect()
  let failed: unknown
  try {
    // A session-level lock, held across the per-migration transactions below.
    await client.query('SELECT pg_advisory_lock($1::bigint)', [migrationLock(names)])
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${names.schema}"`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${names.migrations} (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      )
      const done = await appliedVersions(client, names)
      const from = Math.max(0, ...done)
      const applied: number[] = []
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(migration.sql(names))
          await client.query(`INSERT INTO ${names.migrations} (version, name) VALUES ($1, $2)`, [
            migration.version,
            migration.name,
          ])
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          throw error
        }
        applied.push(migration.version)
      }
      return { from, to: Math.max(from, ...applied), applied }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [migrationLock(names)]).catch(() => {})
    }
  } catch (error) {
    failed = error
    throw error
  } finally {
    // A connection that failed mid-migration is not handed back to the pool in an unknown state.
    client.release(failed instanceof Error ? failed : undefined)
  }
}

/** The schema version recorded in the database (0 when the store's tables were never created). */
export async function schemaVersion(pool: Pool, options: SchemaOptions = {}): Promise<number> {
  const names = new SchemaNames(options)
  const exists = await pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    names.migrations,
  ])
  if (!exists.rows[0]?.present) return 0
  const result = await pool.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${names.migrations}`,
  )
  return Number(result.rows[0]?.version ?? 0)
}
