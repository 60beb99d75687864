import { CoreSDKError } from '@coresdk/core'
import {
  AUDIT_GENESIS,
  type AuditHead,
  type AuditSink,
  auditLine,
  createSharedAuditSink,
  parseAuditRecord,
} from '@coresdk/core/audit'
import type { Pool } from 'pg'
import { toStoreError } from './errors.ts'
import { SchemaNames, type SchemaOptions } from './schema.ts'

/** Options of {@link createPostgresAuditSink}. */
export interface PostgresAuditSinkOptions extends SchemaOptions {
  /** The node-postgres pool the sink queries through; the sink never ends it. Run `migrate()` first. */
  pool: Pool
  /** The deadline of one append, retries included, in ms. @default 2000 */
  timeout?: number
}

const UNIQUE_VIOLATION = '23505'

function headOf(line: string | undefined): AuditHead {
  if (line === undefined) return { seq: 0, hash: AUDIT_GENESIS }
  const record = parseAuditRecord(line)
  if (record === null)
    throw new CoreSDKError('internal_error', 'The audit table’s last row is not an audit record.')
  return { seq: record.seq, hash: record.hash }
}

/**
 * An audit sink appending to the `audit_log` table of the store's schema (created by `migrate()`), one row per
 * record. Any number of instances may share the table: one statement inserts a batch only where the last row's hash
 * is still the one it was chained after (and the `seq` primary key lets one of two racing inserts win); a sink that
 * lost chains again after the new tail, so the table holds one chain.
 * @example
 * createAuditTrail(sdk, { sink: createPostgresAuditSink({ pool }) })
 */
export function createPostgresAuditSink(options: PostgresAuditSinkOptions): AuditSink {
  if (typeof options?.pool?.query !== 'function')
    throw new CoreSDKError(
      'invalid_config',
      'Invalid PostgreSQL audit sink pool: it accepts a node-postgres Pool.',
    )
  const names = new SchemaNames(options)
  const timeout = options.timeout ?? 2000
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new CoreSDKError(
      'invalid_config',
      'Invalid PostgreSQL audit sink timeout: it accepts a positive number of ms.',
    )
  const pool = options.pool
  const table = names.audit
  const tail = `SELECT record FROM ${table} ORDER BY seq DESC LIMIT 1`
  // The tail check and the insert are one statement: it inserts nothing when another instance appended meanwhile.
  const insert = `
    INSERT INTO ${table} (seq, hash, record)
    SELECT x.seq, x.hash, x.record FROM unnest($2::bigint[], $3::text[], $4::text[]) AS x(seq, hash, record)
    WHERE coalesce((SELECT hash FROM ${table} ORDER BY seq DESC LIMIT 1), '${AUDIT_GENESIS}') = $1`
  return createSharedAuditSink(
    {
      readHead: async () => headOf((await pool.query<{ record: string }>(tail)).rows[0]?.record),
      appendAfter: async (after, records) => {
        try {
          const result = await pool.query(insert, [
            after.hash,
            records.map((r) => r.seq),
            records.map((r) => r.hash),
            records.map(auditLine),
          ])
          if (result.rowCount === records.length) return null
        } catch (error) {
          // Another writer inserted this seq first (between our snapshot and our insert): the tail moved.
          if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error
        }
        return headOf((await pool.query<{ record: string }>(tail)).rows[0]?.record)
      },
    },
    {
      timeout,
      timedOut: () =>
        new CoreSDKError('store_unavailable', `PostgreSQL did not answer within ${timeout} ms.`),
      toError: toStoreError,
    },
  )
}

/** Reads every record line of the audit table, in `seq` order, a page at a time (for `coresdk audit verify --postgres`). */
export async function* readPostgresAuditLog(
  pool: Pool,
  options: SchemaOptions = {},
  pageSize = 1000,
): AsyncGenerator<string> {
  const names = new SchemaNames(options)
  let after = -1
  for (;;) {
    const { rows } = await pool.query<{ seq: string; record: string }>(
      `SELECT seq, record FROM ${names.audit} WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [after, pageSize],
    )
    for (const row of rows) yield row.record
    if (rows.length < pageSize) return
    after = Number(rows[rows.length - 1]!.seq)
  }
}
