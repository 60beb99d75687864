import type { RevocationEvent, SessionPatch, SessionRecord, SessionStore } from './types.ts'

/** Options of {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** The most sessions kept; past it, expired ones are swept, then the oldest unrevoked ones dropped. @default 100000 */
  maxSessions?: number
  /** How often expired records are swept, in ms (0 disables the timer; expiry is also checked on read). @default 60000 */
  sweepInterval?: number
}

interface Marker {
  at: number
  until: number
}

const SEP = '\u0000'

// Records are stored frozen and handed out as they are: no copy on the read of every request, and no caller can
// change what the store holds.
function freeze(record: SessionRecord): SessionRecord {
  Object.freeze(record.meta)
  return Object.freeze(record)
}

/**
 * The embedded session store: one process, bounded, expired entries swept. Every operation is atomic because
 * it runs to completion within one turn of the event loop.
 */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>()
  readonly #keys = new Map<string, string>()
  readonly #users = new Map<string, Set<string>>()
  readonly #markers = new Map<string, Marker>()
  readonly #listeners = new Set<(event: RevocationEvent) => void>()
  readonly #maxSessions: number
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#maxSessions = options.maxSessions ?? 100_000
    const interval = options.sweepInterval ?? 60_000
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval)
      // Never keep a process alive for a sweep.
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
  }

  /** The number of records held (revoked ones included). */
  get size(): number {
    return this.#sessions.size
  }

  async get(tenantId: string, id: string): Promise<SessionRecord | null> {
    return this.#read(tenantId + SEP + id)
  }

  async getByKey(tenantId: string, key: string): Promise<SessionRecord | null> {
    const id = this.#keys.get(tenantId + SEP + key)
    return id === undefined ? null : this.#read(tenantId + SEP + id)
  }

  async create(
    tenantId: string,
    record: SessionRecord,
  ): Promise<{ record: SessionRecord; created: boolean }> {
    const now = Date.now()
    if (record.key !== null) {
      const boundId = this.#keys.get(tenantId + SEP + record.key)
      const bound = boundId === undefined ? undefined : this.#sessions.get(tenantId + SEP + boundId)
      // A revoked record stays bound until it is retained no longer, so its tokens cannot start a fresh session.
      if (
        bound &&
        bound.retainUntil > now &&
        (bound.revokedAt !== null || (bound.expiresAt > now && bound.absoluteExpiresAt > now))
      ) {
        return { record: bound, created: false }
      }
    }
    if (this.#sessions.size >= this.#maxSessions) this.#makeRoom(now)
    const marker = this.#marker(tenantId, record.userId, now)
    const revokedAt =
      marker !== null && record.issuedAt <= marker && record.revokedAt === null ? marker : record.revokedAt
    const stored = freeze({ ...record, tenantId, revokedAt })
    this.#sessions.set(tenantId + SEP + record.id, stored)
    if (record.key !== null) this.#keys.set(tenantId + SEP + record.key, record.id)
    const userKey = tenantId + SEP + record.userId
    let index = this.#users.get(userKey)
    if (!index) {
      index = new Set()
      this.#users.set(userKey, index)
    }
    index.add(record.id)
    return { record: stored, created: true }
  }

  async update(tenantId: string, id: string, patch: SessionPatch): Promise<SessionRecord | null> {
    const current = this.#read(tenantId + SEP + id)
    if (!current) return null
    const next = freeze({ ...current, ...patch, revokedAt: current.revokedAt, id: current.id, tenantId })
    this.#sessions.set(tenantId + SEP + id, next)
    return next
  }

  async revoke(tenantId: string, id: string, at: number): Promise<SessionRecord | null> {
    const current = this.#read(tenantId + SEP + id)
    if (!current) return null
    if (current.revokedAt === null) {
      const next = freeze({ ...current, revokedAt: at })
      this.#sessions.set(tenantId + SEP + id, next)
      this.#emit({ kind: 'session', tenantId, sessionId: id, key: current.key, userId: current.userId, at })
      return next
    }
    return current
  }

  async revokeAllForUser(tenantId: string, userId: string, at: number, retainFor: number): Promise<string[]> {
    const userKey = tenantId + SEP + userId
    const previous = this.#markers.get(userKey)
    this.#markers.set(userKey, {
      at: Math.max(at, previous?.at ?? 0),
      until: Math.max(at + retainFor, previous?.until ?? 0),
    })
    const revoked: string[] = []
    for (const id of this.#users.get(userKey) ?? []) {
      const record = this.#sessions.get(tenantId + SEP + id)
      if (record && record.revokedAt === null) {
        this.#sessions.set(tenantId + SEP + id, freeze({ ...record, revokedAt: at }))
        revoked.push(id)
      }
    }
    this.#emit({ kind: 'user', tenantId, userId, at })
    return revoked
  }

  async getUserRevokedAt(tenantId: string, userId: string): Promise<number | null> {
    return this.#marker(tenantId, userId, Date.now())
  }

  async listForUser(tenantId: string, userId: string): Promise<SessionRecord[]> {
    const out: SessionRecord[] = []
    const index = this.#users.get(tenantId + SEP + userId)
    if (!index) return out
    for (const id of index) {
      const record = this.#read(tenantId + SEP + id)
      if (record) out.push(record)
      else index.delete(id)
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  onRevocation(listener: (event: RevocationEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#listeners.clear()
  }

  /** Every record held, as stored (for inspection in tests and debugging). */
  dump(): SessionRecord[] {
    return [...this.#sessions.values()].map((r) => ({ ...r }))
  }

  /** Drops records and markers past their retention. */
  sweep(now: number = Date.now()): void {
    for (const [k, record] of this.#sessions) if (record.retainUntil <= now) this.#drop(k, record)
    for (const [k, marker] of this.#markers) if (marker.until <= now) this.#markers.delete(k)
  }

  #read(k: string): SessionRecord | null {
    const record = this.#sessions.get(k)
    if (!record) return null
    if (record.retainUntil <= Date.now()) {
      this.#drop(k, record)
      return null
    }
    return record
  }

  #marker(tenantId: string, userId: string, now: number): number | null {
    const marker = this.#markers.get(tenantId + SEP + userId)
    return marker && marker.until > now ? marker.at : null
  }

  #drop(k: string, record: SessionRecord): void {
    this.#sessions.delete(k)
    const prefix = record.tenantId + SEP
    if (record.key !== null && this.#keys.get(prefix + record.key) === record.id)
      this.#keys.delete(prefix + record.key)
    const index = this.#users.get(prefix + record.userId)
    index?.delete(record.id)
    if (index && index.size === 0) this.#users.delete(prefix + record.userId)
  }

  #makeRoom(now: number): void {
    this.sweep(now)
    if (this.#sessions.size < this.#maxSessions) return
    // Drop the oldest unrevoked sessions first: a revoked record is what keeps its tokens rejected.
    for (const [k, record] of this.#sessions) {
      if (record.revokedAt === null) {
        this.#drop(k, record)
        if (this.#sessions.size < this.#maxSessions) return
      }
    }
    const oldest = this.#sessions.entries().next().value
    if (oldest) this.#drop(oldest[0], oldest[1])
  }

  #emit(event: RevocationEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not undo or hide a revocation.
      }
    }
  }

  // One-time keys (`claimOnce`): tenant + key → until when the claim holds.
  readonly #once = new Map<string, number>()

  async claimOnce(tenantId: string, key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now()
    if (expiresAt <= now) return true
    const k = tenantId + SEP + key
    const held = this.#once.get(k)
    if (held !== undefined && held > now) return false
    if (this.#once.size >= this.#maxSessions) {
      for (const [name, until] of this.#once) if (until <= now) this.#once.delete(name)
      // Still full of live claims: forgetting one would let its key be claimed twice, so the new one is refused.
      if (this.#once.size >= this.#maxSessions) return false
    }
    this.#once.set(k, expiresAt)
    return true
  }
}
