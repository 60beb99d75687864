import { CoreSDKError } from '@coresdk/core'
import {
  parseRevocationEvent,
  type RefreshLockAnswer,
  type RefreshReleaseAnswer,
  type RevocationEvent,
  SessionCache,
  type SessionCacheOptions,
  type SessionCacheStats,
  type SessionLimits,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from '@coresdk/core/store'
import type { Client, Pool, PoolClient, QueryConfig } from 'pg'
import { destroyConnection } from './connection.ts'
import { toStoreError } from './errors.ts'
import { Lookup } from './lookup.ts'
import { RevocationListener } from './revocation-listener.ts'
import { SchemaNames, type SchemaOptions } from './schema.ts'
import {
  decodeRow,
  immutablePart,
  type SessionRow,
  type Statement,
  type Statements,
  statements,
} from './statements.ts'

/** Options of {@link createPostgresSessionStore}. */
export interface PostgresSessionStoreOptions extends SchemaOptions {
  /** The node-postgres pool the store runs its statements on; the store never ends it. */
  pool: Pool
  /**
   * The deadline of each store operation, in ms (waiting for a pooled connection included); keep it at or below the
   * client's `sessions.storeTimeout`. It is also the lock wait limit of every write. @default 1000
   */
  commandTimeout?: number
  /** The per-instance cache that lets a warm request skip PostgreSQL; `false` disables it. */
  localCache?: SessionCacheOptions | false
  /**
   * Makes the connection that LISTENs for revocations (it is held for as long as the store runs, outside the pool).
   * `false` disables fan-out, and with it the local cache. @default a `pg.Client` with the pool's settings
   */
  listener?: (() => Client) | false
  /** How often the listener connection is checked with a round trip, in ms. @default 1000 */
  heartbeatInterval?: number
  /**
   * How often this instance deletes records past their retention, in ms; 0 leaves it to you (`sweep()`). Every
   * instance may sweep: batches skip rows another instance is deleting. @default 60000
   */
  sweepInterval?: number
  /** The most rows one sweep batch deletes; a sweep runs at most 10 batches per table. @default 1000 */
  sweepBatchSize?: number
}

/** What one {@link PostgresSessionStore.sweep} deleted. */
export interface SweepResult {
  sessions: number
  markers: number
  events: number
  /** One-time keys whose claim had ended (`claimOnce`). */
  oneTimeKeys: number
}

/** A {@link SessionStore} in PostgreSQL, with revocation fan-out over LISTEN/NOTIFY. */
export interface PostgresSessionStore extends SessionStore {
  revokeOthersForUser(tenantId: string, userId: string, keepId: string, at: number): Promise<string[]>
  /** A one-time key claimed once across every instance (a table of claims; see {@link SessionStore.claimOnce}). */
  claimOnce(tenantId: string, key: string, expiresAt: number): Promise<boolean>
  onRevocation(listener: (event: RevocationEvent) => void): () => void
  /** Stops the listener and the sweep timer; the pool is left open. */
  close(): Promise<void>
  /** Resolves once the revocation channel is listened to (the local cache is in use); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>
  /** Local cache counters, for monitoring. */
  stats(): SessionCacheStats
  /** Deletes records, markers and overflow events past their retention, in bounded batches. */
  sweep(now?: number): Promise<SweepResult>
}

// Overflow events are kept this long for listeners to read them by number; then the sweep deletes them.
const EVENT_RETENTION_MS = 10 * 60_000
const ignore = (): void => {}
const SWEEP_BATCHES = 10

function time(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`${name} must be a time in whole ms.`)
  return value
}

function invalid(setting: string, accepts: string): CoreSDKError {
  return new CoreSDKError('invalid_config', `Invalid ${setting}: ${accepts}.`)
}

function positive(value: number, setting: string, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw invalid(setting, `it accepts a ${allowZero ? 'non-negative' : 'positive'} number of ms`)
  return value
}

/** A patch as the update statements take it: times, then the JSON fields; null leaves a field as it is. */
function patchValues(patch: SessionPatch): unknown[] {
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
  const at = (value: number | undefined, name: string) => (value === undefined ? null : time(value, name))
  return [
    at(patch.lastSeenAt, 'lastSeenAt'),
    at(patch.expiresAt, 'expiresAt'),
    at(patch.retainUntil, 'retainUntil'),
    json(patch.claims),
    json(patch.secretHash),
    json(patch.tokens),
  ]
}

class PostgresSessionStoreImpl implements PostgresSessionStore {
  readonly #pool: Pool
  readonly #sql: Statements
  readonly #lookup: Lookup
  readonly #timeout: number
  readonly #lockTimeout: string
  readonly #cache: SessionCache
  readonly #listener: RevocationListener | null
  readonly #listeners = new Set<(event: RevocationEvent) => void>()
  readonly #sweepBatch: number
  #sweeper: ReturnType<typeof setInterval> | undefined
  #waiters = new Set<() => void>()
  #closed = false

  constructor(options: PostgresSessionStoreOptions) {
    if (typeof options?.pool?.connect !== 'function' || typeof options.pool.query !== 'function')
      throw invalid('pool', 'it accepts a node-postgres Pool')
    const names = new SchemaNames(options)
    this.#pool = options.pool
    this.#sql = statements(names)
    this.#lookup = new Lookup(names.tag)
    this.#timeout = positive(options.commandTimeout ?? 1000, 'commandTimeout')
    this.#lockTimeout = `${Math.ceil(this.#timeout)}ms`
    this.#sweepBatch = Math.floor(positive(options.sweepBatchSize ?? 1000, 'sweepBatchSize'))
    const sweepInterval = positive(options.sweepInterval ?? 60_000, 'sweepInterval', true)
    const heartbeat = positive(options.heartbeatInterval ?? 1000, 'heartbeatInterval')
    const fanOut = options.listener !== false
    this.#cache = new SessionCache(
      options.localCache === false || !fanOut ? { maxStaleness: 0 } : (options.localCache ?? {}),
    )
    if (sweepInterval > 0) {
      this.#sweeper = setInterval(() => void this.sweep().catch(() => {}), sweepInterval)
      this.#sweeper.unref?.()
    }
    if (!fanOut) {
      this.#listener = null
      return
    }
    const connect =
      options.listener ||
      (() => {
        const pool = this.#pool as Pool & { Client: new (config: object) => Client }
        // pg-pool keeps the password as a non-enumerable property (out of logs), which a spread would drop.
        return new pool.Client({ ...pool.options, password: pool.options.password, keepAlive: true })
      })
    this.#listener = new RevocationListener(
      connect,
      names.channel,
      {
        up: () => {
          this.#cache.trust()
          for (const wake of this.#waiters) wake()
          this.#waiters.clear()
        },
        down: () => this.#cache.distrust(),
        payload: (text) => this.#receive(text),
      },
      { timeout: this.#timeout, heartbeat },
    )
    this.#listener.start()
  }

  #receive(text: string): void {
    if (text.startsWith('#')) {
      // An event too large for a notification: read it by its number; until then nothing cached can be vouched for.
      this.#cache.forgetAll()
      this.#query(this.#sql.event, [text.slice(1)]).then(
        (rows) => {
          const payload = (rows[0] as { payload?: string } | undefined)?.payload
          if (payload !== undefined) this.#deliver(payload)
        },
        () => {},
      )
      return
    }
    this.#deliver(text)
  }

  #deliver(text: string): void {
    const event = parseRevocationEvent(text)
    if (event === null) return
    this.#cache.apply(event)
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not stop the others from hearing of the revocation.
      }
    }
  }

  /**
   * Runs one statement on a pooled connection, within the deadline; every failure becomes a CoreSDKError. With
   * `durable`, the write functions' results (committed without waiting for the WAL flush, so that notifications leave
   * and locks are released at once) are resolved only after the flush barrier has committed synchronously.
   */
  #query(statement: Statement, values: unknown[], durable = false): Promise<unknown[]> {
    if (this.#closed)
      return Promise.reject(new CoreSDKError('store_unavailable', 'The PostgreSQL session store is closed.'))
    return new Promise((resolve, reject) => {
      let settled = false
      let held: PoolClient | undefined
      const finish = (error: unknown, rows?: unknown[]) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (error === undefined) resolve(rows ?? [])
        else reject(toStoreError(error))
      }
      const timer = setTimeout(() => {
        finish(new CoreSDKError('store_unavailable', `PostgreSQL did not answer within ${this.#timeout} ms.`))
        // The connection may be stuck (a black hole): it is closed, never handed to the next caller.
        if (held !== undefined) {
          held.release(new Error('deadline passed'))
          destroyConnection(held)
        }
        held = undefined
      }, this.#timeout)
      this.#pool.connect().then(
        (client) => {
          if (settled) {
            // The deadline passed while waiting for a connection: hand it back unused.
            client.release()
            return
          }
          held = client
          // pg-pool leaves a checked-out connection without an 'error' listener: one that breaks under a query
          // would emit an unhandled 'error' and end the process. The query itself rejects, which is what counts.
          client.on('error', ignore)
          // query_timeout per query is read by node-postgres, though its types do not list it.
          const run = (s: Statement, v: unknown[]) =>
            client.query({ ...s, values: v, query_timeout: this.#timeout } as unknown as QueryConfig)
          run(statement, values)
            .then(async (result) => {
              if (durable) await run(this.#sql.flush, [])
              return result
            })
            .then(
              (result) => {
                client.off('error', ignore)
                if (held === client) client.release()
                held = undefined
                finish(undefined, result.rows)
              },
              (error: unknown) => {
                // A statement the server refused (severity ERROR) leaves the connection usable; anything else
                // (FATAL, a socket error, a timeout) closes it.
                const usable = (error as { severity?: unknown }).severity === 'ERROR'
                if (usable) client.off('error', ignore)
                if (held === client) {
                  client.release(usable ? undefined : (error as Error))
                  if (!usable) destroyConnection(client)
                }
                held = undefined
                finish(error)
              },
            )
        },
        (error: unknown) => finish(error),
      )
    })
  }

  /** Runs `work` with its arguments checked inside the promise: a bad argument rejects, never throws. */
  #run<T>(work: () => Promise<T>): Promise<T> {
    return Promise.resolve()
      .then(work)
      .catch((error: unknown) => {
        throw toStoreError(error)
      })
  }

  get(tenantId: string, id: string): Promise<SessionRecord | null> {
    const cached = this.#cache.get(tenantId, id)
    if (cached !== undefined) return Promise.resolve(cached)
    return this.#cache.shared('id', tenantId, id, () => this.#readById(tenantId, id))
  }

  #readById(tenantId: string, id: string): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const rows = await this.#query(this.#sql.get, [this.#lookup.hash(tenantId, id), Date.now()])
      return this.#cached(tenantId, rows[0] as SessionRow | undefined, epoch)
    })
  }

  peekByKey(tenantId: string, key: string): SessionRecord | undefined {
    return this.#cache.getByKey(tenantId, key) ?? undefined
  }

  getByKey(tenantId: string, key: string): Promise<SessionRecord | null> {
    const cached = this.#cache.getByKey(tenantId, key)
    if (cached !== undefined) return Promise.resolve(cached)
    return this.#cache.shared('key', tenantId, key, () => this.#readByKey(tenantId, key))
  }

  #readByKey(tenantId: string, key: string): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const rows = await this.#query(this.#sql.getByKey, [this.#lookup.hash(tenantId, key), Date.now()])
      return this.#cached(tenantId, rows[0] as SessionRow | undefined, epoch)
    })
  }

  #cached(tenantId: string, row: SessionRow | undefined, epoch: number): SessionRecord | null {
    if (row === undefined) return null
    const record = decodeRow(row)
    this.#cache.put(tenantId, record, epoch)
    return record
  }

  create(
    tenantId: string,
    record: SessionRecord,
    limits?: SessionLimits,
  ): Promise<{ record: SessionRecord; created: boolean; revoked?: string[] }> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const stored: SessionRecord = { ...record, tenantId }
      const idHash = this.#lookup.hash(tenantId, record.id)
      const userHash = this.#lookup.hash(tenantId, record.userId)
      let max: number | null = null
      if (limits !== undefined) {
        if (!Number.isSafeInteger(limits.maxPerUser) || limits.maxPerUser < 1)
          throw new TypeError('limits.maxPerUser must be a positive integer.')
        max = limits.maxPerUser
      }
      const rows = await this.#query(
        this.#sql.create,
        [
          idHash,
          userHash,
          record.key === null ? null : this.#lookup.hash(tenantId, record.key),
          this.#lookup.userLock(userHash),
          this.#lockTimeout,
          Date.now(),
          time(record.issuedAt, 'issuedAt'),
          time(record.createdAt, 'createdAt'),
          time(record.lastSeenAt, 'lastSeenAt'),
          time(record.expiresAt, 'expiresAt'),
          time(record.absoluteExpiresAt, 'absoluteExpiresAt'),
          time(record.retainUntil, 'retainUntil'),
          record.revokedAt === null ? null : time(record.revokedAt, 'revokedAt'),
          JSON.stringify(record.claims),
          JSON.stringify(record.secretHash),
          JSON.stringify(record.tokens),
          immutablePart(stored),
          JSON.stringify({
            kind: 'session',
            tenantId,
            sessionId: record.id,
            key: record.key,
            userId: record.userId,
          }),
          max,
          limits?.atCap === 'refuse',
        ],
        true,
      )
      const [row, ...revokedByCap] = rows as SessionRow[]
      if (row === undefined) throw new CoreSDKError('session_limit')
      const capped = revokedByCap.map((revoked) => {
        const record = decodeRow(revoked)
        this.#learnRevoked(tenantId, record)
        return record.id
      })
      const result = decodeRow(row)
      this.#cache.put(tenantId, result, epoch)
      const created = idHash.equals(row.id_hash)
      return capped.length > 0 ? { record: result, created, revoked: capped } : { record: result, created }
    })
  }

  update(tenantId: string, id: string, patch: SessionPatch): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const rows = await this.#query(this.#sql.update, [
        this.#lookup.hash(tenantId, id),
        Date.now(),
        ...patchValues(patch),
      ])
      return this.#cached(tenantId, rows[0] as SessionRow | undefined, epoch)
    })
  }

  acquireRefreshLock(tenantId: string, id: string, ttl: number): Promise<RefreshLockAnswer> {
    return this.#run(async () => {
      if (!Number.isFinite(ttl) || ttl < 1) throw new TypeError('acquireRefreshLock() takes a ttl in ms.')
      const epoch = this.#cache.epoch
      const rows = (await this.#query(this.#sql.acquireRefresh, [
        this.#lookup.hash(tenantId, id),
        Math.ceil(ttl),
        Date.now(),
      ])) as Array<SessionRow & { refresh_fence: string | null }>
      const row = rows[0]
      // A waiter's answer is the holder's rotation: later reads on this instance must not find an older copy.
      const record = this.#cached(tenantId, row, epoch)
      return { record, fence: row?.refresh_fence == null ? null : Number(row.refresh_fence) }
    })
  }

  releaseRefreshLock(
    tenantId: string,
    id: string,
    fence: number,
    patch?: SessionPatch,
  ): Promise<RefreshReleaseAnswer> {
    return this.#run(async () => {
      if (!Number.isSafeInteger(fence))
        throw new TypeError('releaseRefreshLock() takes the fence it was given.')
      const epoch = this.#cache.epoch
      const rows = (await this.#query(this.#sql.releaseRefresh, [
        this.#lookup.hash(tenantId, id),
        fence,
        Date.now(),
        patch !== undefined,
        ...patchValues(patch ?? {}),
      ])) as Array<SessionRow & { refresh_written: boolean }>
      const row = rows[0]
      return { record: this.#cached(tenantId, row, epoch), written: row?.refresh_written === true }
    })
  }

  revoke(tenantId: string, id: string, at: number): Promise<SessionRecord | null> {
    return this.#run(async () => {
      if (!Number.isFinite(at)) throw new TypeError('revoke() takes a time in ms.')
      const idHash = this.#lookup.hash(tenantId, id)
      // Announced when the revocation commits; reported only once it is durable.
      const rows = await this.#query(this.#sql.revoke, [idHash, Math.floor(at), Date.now()], true)
      const row = rows[0] as SessionRow | undefined
      if (row === undefined) return null
      const record = decodeRow(row)
      this.#learnRevoked(tenantId, record)
      return record
    })
  }

  /** Revocation is final, so a record this instance revoked is cached at once, without waiting for the notification. */
  #learnRevoked(tenantId: string, record: SessionRecord): void {
    if (record.revokedAt === null) return
    this.#cache.apply({
      kind: 'session',
      tenantId,
      sessionId: record.id,
      key: record.key,
      userId: record.userId,
      at: record.revokedAt,
    })
    this.#cache.put(tenantId, record, this.#cache.epoch)
  }

  revokeAllForUser(tenantId: string, userId: string, at: number, retainFor: number): Promise<string[]> {
    return this.#run(async () => {
      if (!Number.isFinite(at) || !Number.isFinite(retainFor))
        throw new TypeError('revokeAllForUser() takes times in ms.')
      const when = Math.floor(at)
      const now = Date.now()
      const event: RevocationEvent = { kind: 'user', tenantId, userId, at: when }
      const userHash = this.#lookup.hash(tenantId, userId)
      const rows = (await this.#query(
        this.#sql.revokeAll,
        [
          userHash,
          this.#lookup.userLock(userHash),
          this.#lockTimeout,
          when,
          now,
          now + Math.max(1, Math.ceil(retainFor)),
          JSON.stringify(event),
        ],
        true,
      )) as Array<{ revoked: string }>
      this.#cache.apply(event)
      return rows.map((row) => (JSON.parse(row.revoked) as { sessionId: string }).sessionId)
    })
  }

  revokeOthersForUser(tenantId: string, userId: string, keepId: string, at: number): Promise<string[]> {
    return this.#run(async () => {
      if (!Number.isFinite(at)) throw new TypeError('revokeOthersForUser() takes a time in ms.')
      const when = Math.floor(at)
      const userHash = this.#lookup.hash(tenantId, userId)
      const rows = (await this.#query(
        this.#sql.revokeOthers,
        [
          userHash,
          this.#lookup.hash(tenantId, keepId),
          this.#lookup.userLock(userHash),
          this.#lockTimeout,
          when,
          Date.now(),
        ],
        true,
      )) as Array<{ revoked: string }>
      return rows.map((row) => {
        const event = JSON.parse(row.revoked) as { sessionId: string; key: string | null }
        this.#cache.apply({
          kind: 'session',
          tenantId,
          sessionId: event.sessionId,
          key: event.key,
          userId,
          at: when,
        })
        return event.sessionId
      })
    })
  }

  getUserRevokedAt(tenantId: string, userId: string): Promise<number | null> {
    const cached = this.#cache.getMarker(tenantId, userId)
    if (cached !== undefined) return Promise.resolve(cached)
    return this.#cache.shared('marker', tenantId, userId, () => this.#readMarker(tenantId, userId))
  }

  #readMarker(tenantId: string, userId: string): Promise<number | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const rows = (await this.#query(this.#sql.marker, [
        this.#lookup.hash(tenantId, userId),
        Date.now(),
      ])) as Array<{ revoked_at: string }>
      const at = rows[0] === undefined ? null : Number(rows[0].revoked_at)
      this.#cache.putMarker(tenantId, userId, at, epoch)
      return at
    })
  }

  listForUser(tenantId: string, userId: string): Promise<SessionRecord[]> {
    return this.#run(async () => {
      const rows = await this.#query(this.#sql.list, [this.#lookup.hash(tenantId, userId), Date.now()])
      return (rows as SessionRow[]).map(decodeRow).sort((a, b) => a.createdAt - b.createdAt)
    })
  }

  sweep(now: number = Date.now()): Promise<SweepResult> {
    const batches = async (statement: Statement, cutoff: number): Promise<number> => {
      let deleted = 0
      for (let i = 0; i < SWEEP_BATCHES; i++) {
        const count = (await this.#query(statement, [cutoff, this.#sweepBatch])).length
        deleted += count
        if (count < this.#sweepBatch) break
      }
      return deleted
    }
    return this.#run(async () => ({
      sessions: await batches(this.#sql.sweepSessions, now),
      markers: await batches(this.#sql.sweepMarkers, now),
      events: await batches(this.#sql.sweepEvents, now - EVENT_RETENTION_MS),
      oneTimeKeys: await batches(this.#sql.sweepOneTimeKeys, now),
    }))
  }

  claimOnce(tenantId: string, key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now()
    if (expiresAt <= now) return Promise.resolve(true)
    return this.#run(async () => {
      const rows = await this.#query(this.#sql.claimOnce, [
        this.#lookup.hash(tenantId, key),
        Math.ceil(expiresAt),
        now,
      ])
      return rows.length === 1
    })
  }

  onRevocation(listener: (event: RevocationEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  ready(timeoutMs: number = this.#timeout * 5): Promise<void> {
    if (this.#cache.stats().trusted) return Promise.resolve()
    if (this.#listener === null) return Promise.reject(new Error('This store has no revocation listener.'))
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(wake)
        reject(
          new CoreSDKError(
            'store_unavailable',
            `The revocation channel was not listened to within ${timeoutMs} ms.`,
          ),
        )
      }, timeoutMs)
      this.#waiters.add(wake)
    })
  }

  stats(): SessionCacheStats {
    return this.#cache.stats()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweeper)
    this.#listeners.clear()
    this.#listener?.stop()
    this.#cache.distrust()
  }
}

/**
 * A session store in PostgreSQL over a node-postgres `Pool`, with a per-instance cache kept coherent by revocation
 * notifications (LISTEN/NOTIFY). Run {@link migrate} once before first use.
 * @example
 * import { Pool } from 'pg'
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL, ...postgresPoolOptions() })
 * await migrate(pool)
 * const sdk = new CoreSDKClient({ sessions: { store: createPostgresSessionStore({ pool }) }, … })
 */
export function createPostgresSessionStore(options: PostgresSessionStoreOptions): PostgresSessionStore {
  return new PostgresSessionStoreImpl(options)
}
