import type { CoreSDKClient } from './client.ts'
import type { EventActor, LifecycleEvent, RevokeReason } from './events.ts'

/** The version of the audit record format: `v` of every record. */
export const AUDIT_VERSION = 1

/** The `prev` of the first record of a chain: 64 zeros. */
export const AUDIT_GENESIS = '0'.repeat(64)

/** What an audit record says happened: one of the session lifecycle events (`auth.degraded` is not audited). */
export type AuditRecordType =
  | 'session.created'
  | 'session.refreshed'
  | 'session.revoked'
  | 'user.sessions_revoked'

/**
 * One record of the audit trail, version 1. It holds ids and fixed words only: never a token, a secret or a claim
 * value other than the user id. `hash` is the SHA-256 (hex) of the record's canonical form without `hash`; `prev` is
 * the previous record's `hash` ({@link AUDIT_GENESIS} for the first), so that a change anywhere breaks the chain.
 */
export interface AuditRecord {
  v: typeof AUDIT_VERSION
  /** The position in the chain: 1 for the first record, one more for each next. */
  seq: number
  /** When the change happened, in ms since the epoch (the event's `at`). */
  at: number
  type: AuditRecordType
  tenantId: string
  /** Who acted: the user, an admin (sidecar HTTP API or CLI), the IdP (back-channel logout), the service, or CoreSDK. */
  actor: EventActor
  userId: string
  /** The session, for `session.*` records. */
  sessionId?: string
  /** `session.created`: a bearer token's first request (`token`) or a login. */
  origin?: 'token' | 'login'
  /** `session.refreshed`: a refresh call, or a login continuing the provider session. */
  via?: 'refresh' | 'login'
  /** `session.refreshed`: whether the OAuth tokens were exchanged. */
  rotated?: boolean
  /** `session.revoked`: asked for, or a rule of CoreSDK's. */
  reason?: RevokeReason
  /** `user.sessions_revoked`: all the user's sessions, or all but `keptSessionId`. */
  scope?: 'all' | 'others'
  /** `user.sessions_revoked`: the session left active (null for a revoke-all). */
  keptSessionId?: string | null
  /** `user.sessions_revoked`: the sessions the call revoked. */
  sessionIds?: string[]
  prev: string
  hash: string
}

/** A record before it is chained: what happened, without `v`, `seq`, `prev` and `hash`. */
export type AuditEntry = Omit<AuditRecord, 'v' | 'seq' | 'prev' | 'hash'>

/** The end of a chain: its last record's `seq` and `hash` (`{ seq: 0, hash: AUDIT_GENESIS }` for an empty one). */
export interface AuditHead {
  seq: number
  hash: string
}

/**
 * Where audit records go. A sink chains the entries after its current head (with {@link chainAuditRecords}) and
 * stores them in order; a sink shared by several processes (Redis, PostgreSQL) appends only where its tail is still
 * the head it chained from, and retries otherwise, so that they write one chain. The trail calls `append` one batch
 * at a time.
 */
export interface AuditSink {
  /** Stores `entries` as the next records of the chain; resolves the records stored, in order. */
  append(entries: readonly AuditEntry[]): Promise<readonly AuditRecord[]>
  /** Releases what the sink holds (never a client it was given). */
  close?(): Promise<void>
}

const encoder = new TextEncoder()
const HEX = /^[0-9a-f]{64}$/

/**
 * The canonical serialisation the hash covers: JSON with every object's keys in code-unit order, no whitespace, and
 * fields that are `undefined` left out. `JSON.stringify` escapes control characters and lone surrogates, so the text
 * is well-formed UTF-8 once encoded.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`
  const object = value as Record<string, unknown>
  const members: string[] = []
  for (const key of Object.keys(object).sort()) {
    if (object[key] === undefined) continue
    members.push(`${JSON.stringify(key)}:${canonicalJson(object[key])}`)
  }
  return `{${members.join(',')}}`
}

/** The SHA-256 (hex) of a record's canonical form without its `hash`: what its `hash` must be. */
export async function auditHash(record: Omit<AuditRecord, 'hash'> | AuditRecord): Promise<string> {
  const { hash: _, ...rest } = record as AuditRecord
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(canonicalJson(rest)))
  let hex = ''
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/** A record as one line of text (its canonical JSON, without a line break): what every sink stores. */
export function auditLine(record: AuditRecord): string {
  return canonicalJson(record)
}

/** Chains entries after `head` (null: the start of a chain): each gets the next `seq`, the previous `hash` as `prev`. */
export async function chainAuditRecords(
  head: AuditHead | null,
  entries: readonly AuditEntry[],
): Promise<AuditRecord[]> {
  let seq = head?.seq ?? 0
  let prev = head?.hash ?? AUDIT_GENESIS
  const records: AuditRecord[] = []
  for (const entry of entries) {
    seq += 1
    const unhashed = { ...entry, v: AUDIT_VERSION, seq, prev } as Omit<AuditRecord, 'hash'>
    const record = { ...unhashed, hash: await auditHash(unhashed) } as AuditRecord
    records.push(record)
    prev = record.hash
  }
  return records
}

/** The audit entry of a lifecycle event, with only the fields the record format names; null for `auth.degraded`. */
export function auditEntryOf(event: LifecycleEvent): AuditEntry | null {
  const base = { at: event.at, tenantId: event.tenantId, actor: event.actor }
  switch (event.type) {
    case 'session.created':
      return {
        ...base,
        type: event.type,
        userId: event.userId,
        sessionId: event.sessionId,
        origin: event.origin,
      }
    case 'session.refreshed':
      return {
        ...base,
        type: event.type,
        userId: event.userId,
        sessionId: event.sessionId,
        via: event.via,
        rotated: event.rotated,
      }
    case 'session.revoked':
      return {
        ...base,
        type: event.type,
        userId: event.userId,
        sessionId: event.sessionId,
        reason: event.reason,
      }
    case 'user.sessions_revoked':
      return {
        ...base,
        type: event.type,
        userId: event.userId,
        scope: event.scope,
        keptSessionId: event.keptSessionId,
        sessionIds: [...event.sessionIds],
      }
    default:
      return null
  }
}

const TYPES: ReadonlySet<string> = new Set<AuditRecordType>([
  'session.created',
  'session.refreshed',
  'session.revoked',
  'user.sessions_revoked',
])

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/** Reads one stored record (a line of text, or a parsed value); null when it is not a version-1 audit record. */
export function parseAuditRecord(value: unknown): AuditRecord | null {
  let parsed = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      return null
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
  const r = parsed as Record<string, unknown>
  if (r.v !== AUDIT_VERSION || !isCount(r.seq) || r.seq < 1 || !isCount(r.at)) return null
  if (typeof r.type !== 'string' || !TYPES.has(r.type)) return null
  if (typeof r.tenantId !== 'string' || typeof r.actor !== 'string' || typeof r.userId !== 'string')
    return null
  if (typeof r.prev !== 'string' || !HEX.test(r.prev) || typeof r.hash !== 'string' || !HEX.test(r.hash))
    return null
  return r as unknown as AuditRecord
}

/** Why a chain is broken, at its first broken link. */
export type AuditBreakReason =
  /** Not a version-1 audit record (not JSON, or a field missing or of the wrong type). */
  | 'malformed'
  /** The record's content does not match its `hash`: it was changed after it was written. */
  | 'altered'
  /** The first record is not the start of a chain (`seq` 1, `prev` the genesis value): the chain's start is gone. */
  | 'bad_genesis'
  /** Records are missing before this one: its `seq` skips some. */
  | 'missing'
  /** Records are out of order (or repeated): this `seq` comes before one already seen. */
  | 'reordered'
  /** `prev` is not the previous record's `hash`: a record before it was replaced (and re-hashed). */
  | 'broken_link'
  /** The chain is intact but does not end at the head expected (`expectHead`): its tail was cut or added to. */
  | 'head_mismatch'

/** What {@link verifyAuditChain} found. */
export type AuditVerification =
  | { ok: true; count: number; head: AuditHead }
  | {
      ok: false
      /** The position of the first broken link in what was read, from 1 (a line number for a file). */
      position: number
      /** The `seq` the record there claims, when it could be read. */
      seq: number | null
      reason: AuditBreakReason
      /** A sentence saying what is wrong, with no value from the record but numbers. */
      detail: string
      /** How many records before it were intact. */
      count: number
    }

/** Options of {@link verifyAuditChain}. */
export interface VerifyAuditOptions {
  /** The head the chain must end at (its last `hash`, or `seq` and `hash`), recorded elsewhere: catches a cut tail. */
  expectHead?: string | Partial<AuditHead>
}

type Broken = Extract<AuditVerification, { ok: false }>

/**
 * Checks a chain record by record, in stored order, and reports the first broken link: its position, its `seq` and
 * why. Lines may be text (blank lines are skipped, and still counted as positions) or parsed values.
 * @example
 * const result = await verifyAuditChain(readFileSync('audit.jsonl', 'utf8').split('\n'))
 * if (!result.ok) console.error(`line ${result.position}: ${result.reason}`)
 */
export async function verifyAuditChain(
  lines: Iterable<unknown> | AsyncIterable<unknown>,
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  let position = 0
  let count = 0
  let head: AuditHead = { seq: 0, hash: AUDIT_GENESIS }
  // A record whose seq skips ahead: a gap, unless the very next record is the one expected (two swapped records).
  let skipped: { position: number; seq: number } | null = null
  const broken = (at: number, seq: number | null, reason: AuditBreakReason, detail: string): Broken => ({
    ok: false,
    position: at,
    seq,
    reason,
    detail,
    count,
  })
  for await (const line of lines as AsyncIterable<unknown>) {
    position += 1
    if (typeof line === 'string' && line.trim() === '') continue
    const record = parseAuditRecord(line)
    if (record === null) {
      if (skipped !== null) return gap(skipped, head, count)
      return broken(position, null, 'malformed', 'the record is not a version-1 audit record')
    }
    if ((await auditHash(record)) !== record.hash) {
      if (skipped !== null) return gap(skipped, head, count)
      return broken(position, record.seq, 'altered', 'the record does not match its hash: it was changed')
    }
    const expected = head.seq + 1
    if (skipped !== null) {
      if (record.seq === expected)
        return broken(
          skipped.position,
          skipped.seq,
          'reordered',
          `seq ${skipped.seq} comes before seq ${expected}: records are out of order`,
        )
      return gap(skipped, head, count)
    }
    if (record.seq !== expected) {
      if (head.seq === 0 && (record.seq !== 1 || record.prev !== AUDIT_GENESIS))
        return broken(
          position,
          record.seq,
          'bad_genesis',
          `the chain starts at seq ${record.seq}, not at seq 1 after the genesis value: its start is missing`,
        )
      if (record.seq < expected)
        return broken(
          position,
          record.seq,
          'reordered',
          `seq ${record.seq} comes after seq ${head.seq}: records are out of order or repeated`,
        )
      skipped = { position, seq: record.seq }
      continue
    }
    if (record.prev !== head.hash) {
      if (head.seq === 0)
        return broken(
          position,
          record.seq,
          'bad_genesis',
          'the first record does not start from the genesis value',
        )
      return broken(
        position,
        record.seq,
        'broken_link',
        `prev is not the hash of seq ${head.seq}: a record before it was replaced`,
      )
    }
    head = { seq: record.seq, hash: record.hash }
    count += 1
  }
  if (skipped !== null) return gap(skipped, head, count)
  const expect = options.expectHead
  if (expect !== undefined) {
    const wanted = typeof expect === 'string' ? { hash: expect } : expect
    const hashOk = wanted.hash === undefined || wanted.hash.toLowerCase() === head.hash
    const seqOk = wanted.seq === undefined || wanted.seq === head.seq
    if (!hashOk || !seqOk)
      return {
        ok: false,
        position,
        seq: head.seq,
        reason: 'head_mismatch',
        detail: `the chain ends at seq ${head.seq}, whose hash is not the head expected: its tail was cut or added to`,
        count,
      }
  }
  return { ok: true, count, head }
}

function gap(skipped: { position: number; seq: number }, head: AuditHead, count: number): Broken {
  const from = head.seq + 1
  const to = skipped.seq - 1
  return {
    ok: false,
    position: skipped.position,
    seq: skipped.seq,
    reason: 'missing',
    detail: from === to ? `seq ${from} is missing` : `seq ${from} to ${to} are missing`,
    count,
  }
}

/** Anything with a `write(line)`: `fs.createWriteStream(path, { flags: 'a' })`, `process.stdout`, an array's push. */
export interface AuditWritable {
  /** Writes one line (with its `\n`); a returned promise is awaited, a throw fails the append. */
  write(line: string): unknown
}

/** Options of {@link jsonLinesAuditSink}. */
export interface JsonLinesAuditSinkOptions {
  /** Where the chain goes on: the last record already written (read it from the file's last line). @default a new chain */
  head?: AuditHead | null
}

/**
 * A sink writing each record as one line of JSON. It is for one writer: two processes appending to one file write two
 * chains that break each other (use the Redis or PostgreSQL sink for several instances).
 * @example
 * const sink = jsonLinesAuditSink(fs.createWriteStream('audit.jsonl', { flags: 'a' }))
 */
export function jsonLinesAuditSink(out: AuditWritable, options: JsonLinesAuditSinkOptions = {}): AuditSink {
  if (out === null || typeof out !== 'object' || typeof out.write !== 'function')
    throw new TypeError('jsonLinesAuditSink() takes an object with a write(line) method.')
  let head = options.head ?? null
  return {
    async append(entries) {
      const records = await chainAuditRecords(head, entries)
      await out.write(`${records.map(auditLine).join('\n')}\n`)
      // Only what was written moves the head: a failed write leaves the chain where it was.
      const last = records[records.length - 1]
      if (last !== undefined) head = { seq: last.seq, hash: last.hash }
      return records
    },
  }
}

/** The two operations a shared store gives {@link createSharedAuditSink}. */
export interface SharedAuditLog {
  /** The chain's current head, read from the store (`{ seq: 0, hash: AUDIT_GENESIS }` when empty). */
  readHead(): Promise<AuditHead>
  /**
   * Stores `records` only if the store's tail is still `after` (atomically: a script, one statement); resolves null
   * when they were stored, or the store's actual head when another writer appended first (nothing stored).
   */
  appendAfter(after: AuditHead, records: readonly AuditRecord[]): Promise<AuditHead | null>
}

/** Options of {@link createSharedAuditSink}. */
export interface SharedAuditSinkOptions {
  /** The deadline of one append, retries included, in ms. @default 2000 */
  timeout?: number
  /** The error an append rejects with when its deadline passes. */
  timedOut: () => Error
  /** Turns what the store threw into the error the append rejects with (no value from the store's message). */
  toError: (error: unknown) => Error
}

// A loop bound, not a limit a healthy deployment meets: each retry means another writer appended meanwhile.
const MAX_ATTEMPTS = 100

/**
 * An audit sink over a store several processes append to (a Redis Stream, a PostgreSQL table): optimistic append.
 * It chains a batch after the head it last saw and stores it only where that is still the tail; when another writer
 * got there first, it chains the batch again after the new tail and retries, so the store holds one chain.
 */
export function createSharedAuditSink(log: SharedAuditLog, options: SharedAuditSinkOptions): AuditSink {
  const timeout = options.timeout ?? 2000
  // What this writer last saw at the tail: a guess only, checked by the store on every append.
  let head: AuditHead | null = null
  const append = async (entries: readonly AuditEntry[]): Promise<AuditRecord[]> => {
    head ??= await log.readHead()
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const records = await chainAuditRecords(head, entries)
      const moved = await log.appendAfter(head, records)
      if (moved === null) {
        const last = records[records.length - 1]!
        head = { seq: last.seq, hash: last.hash }
        return records
      }
      head = moved
    }
    throw new Error('the audit log kept moving: no append went through')
  }
  return {
    append(entries) {
      if (entries.length === 0) return Promise.resolve([])
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(options.timedOut()), timeout)
        append(entries).then(
          (records) => {
            clearTimeout(timer)
            resolve(records)
          },
          (error: unknown) => {
            clearTimeout(timer)
            // Whatever landed or not, the tail is read afresh next time.
            head = null
            reject(options.toError(error))
          },
        )
      })
    },
  }
}

/** What a trail reports when its sink failed: no value from any record, only counts and a code. */
export interface AuditFailure {
  /** `sink_failed` (the sink threw, or its own deadline passed) or `queue_full` (records arrived faster than the sink took them). */
  code: 'sink_failed' | 'queue_full'
  /** How many records this failure lost. */
  lost: number
  /** What the sink threw, for the application's own handling; never logged by CoreSDK. */
  cause?: unknown
}

/** Options of {@link createAuditTrail}. */
export interface AuditTrailOptions {
  sink: AuditSink
  /** Told of each failure (records lost); what it throws is ignored. @default none */
  onError?: (failure: AuditFailure) => void
  /** The most records waiting for the sink; more are dropped (and reported). @default 10000 */
  maxQueue?: number
}

/** A running audit trail. */
export interface AuditTrail {
  /** Resolves once every record queued so far has been appended (or reported lost). */
  flush(): Promise<void>
  /** Stops listening, flushes, and closes the sink. */
  close(): Promise<void>
  /** How many records were lost so far (sink failures, a full queue). */
  readonly lost: number
}

/**
 * Records the session lifecycle of one or more clients into a hash-chained audit trail: every session created,
 * refreshed and revoked, and every revoke-all and revoke-others, with who acted and when. Records are queued when the
 * event fires and appended in order, one batch at a time (the next waits for the last to settle), so the chain is
 * well formed whatever the concurrency. A sink that fails never fails or slows a request: its records are lost and
 * reported to `onError`. A sink that hangs holds the queue back until `maxQueue`, then records are dropped and
 * reported; the shipped Redis and PostgreSQL sinks give each append a deadline.
 * @example
 * const trail = createAuditTrail(sdk, { sink: jsonLinesAuditSink(fs.createWriteStream('audit.jsonl', { flags: 'a' })) })
 */
export function createAuditTrail(
  clients: CoreSDKClient | readonly CoreSDKClient[],
  options: AuditTrailOptions,
): AuditTrail {
  const sink = options?.sink
  if (sink === null || typeof sink !== 'object' || typeof sink.append !== 'function')
    throw new TypeError('createAuditTrail() takes { sink }, an object with an append(entries) method.')
  const maxQueue = options.maxQueue ?? 10_000
  if (!Number.isInteger(maxQueue) || maxQueue < 1)
    throw new TypeError('createAuditTrail(): maxQueue takes a positive integer.')
  const report = (failure: AuditFailure) => {
    lost += failure.lost
    try {
      options.onError?.(failure)
    } catch {
      // The application's handler failing is its own affair.
    }
  }
  let lost = 0
  let queue: AuditEntry[] = []
  let running: Promise<void> | null = null

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue
      queue = []
      try {
        await sink.append(batch)
      } catch (cause) {
        report({ code: 'sink_failed', lost: batch.length, cause })
      }
    }
  }
  const enqueue = (event: LifecycleEvent) => {
    const entry = auditEntryOf(event)
    if (entry === null) return
    if (queue.length >= maxQueue) return report({ code: 'queue_full', lost: 1 })
    queue.push(entry)
    running ??= drain().finally(() => {
      running = null
    })
  }
  const list = Array.isArray(clients) ? clients : [clients as CoreSDKClient]
  const stops: Array<() => void> = []
  for (const client of list)
    for (const type of TYPES) stops.push(client.on(type as AuditRecordType, enqueue as (e: unknown) => void))
  const flush = async () => {
    // Listeners run on a microtask after the change: a macrotask turn lets those already due enqueue first.
    await new Promise((resolve) => setTimeout(resolve, 0))
    while (running !== null) await running
  }
  return {
    flush,
    async close() {
      for (const stop of stops.splice(0)) stop()
      await flush()
      await sink.close?.()
    },
    get lost() {
      return lost
    },
  }
}
