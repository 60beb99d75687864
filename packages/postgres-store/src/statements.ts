import type { SessionRecord } from '@coresdk/core/store'
import type { SchemaNames } from './schema.ts'

/** A row of the sessions table, as node-postgres returns it (bigint columns as strings). */
export interface SessionRow {
  id_hash: Buffer
  event: string
  last_seen_at: string
  expires_at: string
  retain_until: string
  revoked_at: string | null
  claims: string
  secret_hash: string
  tokens: string
  data: string
}

/** Turns a row back into the record it was made from. */
export function decodeRow(row: SessionRow): SessionRecord {
  return {
    ...(JSON.parse(row.data) as Omit<SessionRecord, MutableField>),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    retainUntil: Number(row.retain_until),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    claims: JSON.parse(row.claims),
    secretHash: JSON.parse(row.secret_hash),
    tokens: JSON.parse(row.tokens),
  }
}

type MutableField =
  | 'lastSeenAt'
  | 'expiresAt'
  | 'retainUntil'
  | 'revokedAt'
  | 'claims'
  | 'secretHash'
  | 'tokens'

/** The record's immutable part, as the `data` column holds it (any field a future record carries included). */
export function immutablePart(record: SessionRecord): string {
  const {
    lastSeenAt: _l,
    expiresAt: _e,
    retainUntil: _r,
    revokedAt: _v,
    claims: _c,
    secretHash: _s,
    tokens: _t,
    ...rest
  } = record
  return JSON.stringify(rest)
}

/** A named (prepared) statement. */
export interface Statement {
  name: string
  text: string
}

/** The store's statements for one schema and prefix. */
export function statements(n: SchemaNames) {
  const s = n.sessions
  const make = (name: string, text: string): Statement => ({
    // Prepared once per connection; the tag keeps two stores with other schemas apart on a shared pool.
    name: `coresdk:${n.tag}:${name}`,
    text,
  })
  return {
    get: make('get', `SELECT * FROM ${s} WHERE id_hash = $1 AND retain_until > $2`),
    getByKey: make('getByKey', `SELECT * FROM ${s} WHERE key_hash = $1 AND retain_until > $2`),
    create: make(
      'create',
      `SELECT * FROM ${n.name('create_session')}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
    ),
    update: make(
      'update',
      // A touch never brings back a session that has stopped being active (it left its user's bound for good):
      // expires_at moves only while the session is active, or once it is revoked.
      `UPDATE ${s} SET last_seen_at = COALESCE($3, last_seen_at),
        expires_at = CASE WHEN $4::bigint IS NOT NULL AND (revoked_at IS NOT NULL
          OR LEAST(expires_at, absolute_expires_at, retain_until) > $2) THEN $4::bigint ELSE expires_at END,
        retain_until = COALESCE($5, retain_until), claims = COALESCE($6, claims),
        secret_hash = COALESCE($7, secret_hash), tokens = COALESCE($8, tokens)
      WHERE id_hash = $1 AND retain_until > $2 RETURNING *`,
    ),
    revoke: make('revoke', `SELECT * FROM ${n.name('revoke_session')}($1, $2, $3)`),
    // The durability barrier: a transaction that writes WAL (a transactional logical message: no table, no lock) and
    // commits synchronously flushes the WAL up to its own commit, and so every commit before it.
    flush: make('flush', `SELECT pg_logical_emit_message(true, 'coresdk', '') IS NOT NULL AS flushed`),
    revokeAll: make('revokeAll', `SELECT revoked FROM ${n.name('revoke_all')}($1, $2, $3, $4, $5, $6, $7)`),
    revokeOthers: make(
      'revokeOthers',
      `SELECT revoked FROM ${n.name('revoke_others')}($1, $2, $3, $4, $5, $6)`,
    ),
    marker: make('marker', `SELECT revoked_at FROM ${n.users} WHERE user_hash = $1 AND retain_until > $2`),
    list: make(
      'list',
      `SELECT * FROM ${s} WHERE user_hash = $1 AND retain_until > $2 ORDER BY created_at, id_hash`,
    ),
    acquireRefresh: make(
      'acquireRefresh',
      `SELECT (a.session).*, a.refresh_fence FROM ${n.name('acquire_refresh')}($1, $2, $3) AS a`,
    ),
    releaseRefresh: make(
      'releaseRefresh',
      `SELECT (r.session).*, r.refresh_written
      FROM ${n.name('release_refresh')}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS r`,
    ),
    event: make('event', `SELECT payload FROM ${n.events} WHERE seq = $1`),
    sweepSessions: make(
      'sweepSessions',
      `DELETE FROM ${s} WHERE id_hash IN (SELECT id_hash FROM ${s} WHERE retain_until <= $1
        ORDER BY retain_until LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1`,
    ),
    sweepMarkers: make(
      'sweepMarkers',
      `DELETE FROM ${n.users} WHERE user_hash IN (SELECT user_hash FROM ${n.users} WHERE retain_until <= $1
        ORDER BY retain_until LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1`,
    ),
    // One statement, so one claim wins: the insert, or the takeover of an ended claim, answers a row; a claim that
    // still holds answers none (the conflicting row is locked until the winner commits).
    claimOnce: make(
      'claimOnce',
      `INSERT INTO ${n.oneTimeKeys} AS o (key_hash, expires_at) VALUES ($1, $2)
        ON CONFLICT (key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE o.expires_at <= $3
        RETURNING 1`,
    ),
    sweepOneTimeKeys: make(
      'sweepOneTimeKeys',
      `DELETE FROM ${n.oneTimeKeys} WHERE key_hash IN (SELECT key_hash FROM ${n.oneTimeKeys} WHERE expires_at <= $1
        ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1`,
    ),
    sweepEvents: make(
      'sweepEvents',
      `DELETE FROM ${n.events} WHERE seq IN (SELECT seq FROM ${n.events} WHERE created_at <= $1
        ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1`,
    ),
  }
}

/** {@link statements}' result. */
export type Statements = ReturnType<typeof statements>
