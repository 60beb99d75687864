import { BoundedMap } from './bounded-map.ts'
import { CoreSDKError } from './errors.ts'
import { isRecordActive } from './session.ts'
import type {
  RefreshLockAnswer,
  RefreshReleaseAnswer,
  RevocationEvent,
  SessionLimits,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from './types.ts'

/** Options of {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /**
   * The most session records kept, revoked ones included. At the cap a new session takes the place of an expired
   * one, else of a revoked one (its revocation is remembered apart), else of the least recently used. @default 100000
   */
  maxSessions?: number
  /**
   * The most revocations remembered apart from their records: revoked credential keys and users' revoke-all markers,
   * each until it expires. Room for the revocation of every live session is kept: when unexpired revocations fill
   * it, least recently used sessions make way, and with none left a new session is refused (`internal_error`)
   * rather than a revocation forgotten. @default 2 × maxSessions
   */
  maxRevocations?: number
  /** How often records past their retention are swept, in ms (0 disables the timer; reads check too). @default 60000 */
  sweepInterval?: number
}

/**
 * The per-user bound when `create` is given none (CoreSDKClient always passes its `sessions.maxPerUser` and
 * `sessions.atCap`): no user holds more than 1000 active sessions, the oldest going first.
 */
const DEFAULT_LIMITS: SessionLimits = { maxPerUser: 1000, atCap: 'revoke_oldest' }

/** How many ended (revoked or expired) sessions of a user `listForUser` still shows, beside the active ones. */
const ENDED_LISTED = 100

// Live records are filed by the second in which they stop being active, so that the store finds an expired one to
// evict without a scan: a record is evicted as expired at most GRAIN ms after it expired.
const GRAIN = 1000

// A full pass over the revocations, when they seem full, at most this often: it finds expired entries that sit
// behind unexpired ones, at a cost shared by every create in between.
const SWEEP_GAP = 1000

/** A record with what its eviction needs at hand, so that dropping it builds no name and looks nothing up twice. */
interface Slot {
  record: SessionRecord
  /** The wheel bucket of a live record; -1 for a revoked one. */
  bucket: number
  /** The record's credential key, scoped by tenant, or null. */
  keyName: string | null
  user: UserSessions
  /** Read since it was last passed over for eviction (second chance: a read costs one write, not a move). */
  used: boolean
  /** The refresh lock: the last fence handed out, the greatest one written, and when the lease ends (ms). */
  lock: { fence: number; written: number; until: number } | null
}

/** One user's sessions: the active ones in creation order, and the last ended ones. */
interface UserSessions {
  /** The user id, scoped by tenant: this entry's name in the store's user map. */
  name: string
  tenantId: string
  active: Map<string, true>
  /** Made on the first session that ends: most users never need it. */
  ended: BoundedMap<string, true> | null
  /** No active session of the user stops being active before this (ms): until then the cap needs no pruning. */
  settledUntil: number
}

// One tenant's entry name: the tenant's length first, so that no tenant and name, whatever they hold, can spell
// another pair (a separator could appear inside either).
function scoped(tenantId: string, name: string): string {
  return `${tenantId.length}:${tenantId}${name}`
}

// Records are stored frozen and handed out as they are: no copy on the read of every request, and no caller can
// change what the store holds.
function freeze(record: SessionRecord): SessionRecord {
  Object.freeze(record.meta)
  return Object.freeze(record)
}

function activeEnd(record: SessionRecord): number {
  return Math.min(record.expiresAt, record.absoluteExpiresAt, record.retainUntil)
}

function refusal(what: string): CoreSDKError {
  return new CoreSDKError(
    'internal_error',
    `The memory session store refuses new sessions: ${what}. Raise maxRevocations, or wait for revocations to expire.`,
  )
}

// A bound that is not a positive integer would bound nothing: a caller's bug, which fails closed.
function checkLimits(limits: SessionLimits): void {
  if (!Number.isInteger(limits?.maxPerUser) || limits.maxPerUser < 1)
    throw new CoreSDKError('internal_error', 'create() takes limits.maxPerUser as a positive integer.')
  if (limits.atCap !== 'revoke_oldest' && limits.atCap !== 'refuse')
    throw new CoreSDKError('internal_error', "create() takes limits.atCap as 'revoke_oldest' or 'refuse'.")
}

function positive(value: number | undefined, fallback: number, setting: string): number {
  const n = value ?? fallback
  if (!Number.isInteger(n) || n < 1)
    throw new CoreSDKError('invalid_config', `Invalid ${setting}: it accepts a positive integer.`)
  return n
}

/**
 * The embedded session store: one process, bounded in records, revocations and per-user sessions. Every operation
 * is atomic because it runs to completion within one turn of the event loop, and costs O(1) amortised apart from
 * per-user work, which `limits.maxPerUser` bounds.
 *
 * A revoked credential never becomes valid again because its record was evicted: revoked credential keys and
 * users' revoke-all markers are kept apart, until they expire, in structures of their own.
 */
export class MemorySessionStore implements SessionStore {
  // Unrevoked records, least recently used first (approximately: see #evictLive); revoked ones, oldest revocation
  // first.
  readonly #live: BoundedMap<string, Slot>
  readonly #revoked: BoundedMap<string, Slot>
  // Per tenant, a credential key to its record's name in #live or #revoked (the very string stored there). Nested,
  // not scoped: the key a request brings is the verified token's own string, whose hash is kept, so the lookup on
  // every request builds and hashes no new string.
  readonly #keys = new Map<string, Map<string, string>>()
  readonly #users = new Map<string, UserSessions>()
  readonly #wheel = new Map<number, Set<string>>()
  #cursor = Math.floor(Date.now() / GRAIN)
  // Revoked credential keys (value: revokedAt) until the record's retainUntil, and users' revoke-all markers.
  readonly #tombstones: BoundedMap<string, number>
  readonly #markers: BoundedMap<string, number>
  // A revoke-all marker that had to make way, kept as one marker for every user: nothing issued at or before it
  // starts a session until it expires.
  #floor = { at: Number.NEGATIVE_INFINITY, until: 0 }
  #lastSweep = 0
  readonly #maxSessions: number
  readonly #listeners = new Set<(event: RevocationEvent) => void>()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#maxSessions = positive(options.maxSessions, 100_000, 'maxSessions')
    const maxRevocations = positive(options.maxRevocations, 2 * this.#maxSessions, 'maxRevocations')
    this.#live = new BoundedMap(this.#maxSessions)
    this.#revoked = new BoundedMap(this.#maxSessions)
    this.#tombstones = new BoundedMap(maxRevocations)
    this.#markers = new BoundedMap(maxRevocations)
    const interval = options.sweepInterval ?? 60_000
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval)
      // Never keep a process alive for a sweep.
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
  }

  /** The number of records held (revoked ones included). */
  get size(): number {
    return this.#live.size + this.#revoked.size
  }

  /** The number of revocations remembered apart from records: revoked credential keys and revoke-all markers. */
  get revocations(): { keys: number; markers: number } {
    return { keys: this.#tombstones.size, markers: this.#markers.size }
  }

  async get(tenantId: string, id: string): Promise<SessionRecord | null> {
    return this.#read(scoped(tenantId, id), Date.now())
  }

  async getByKey(tenantId: string, key: string): Promise<SessionRecord | null> {
    return this.#bound(tenantId, key, Date.now())
  }

  peekByKey(tenantId: string, key: string, now = Date.now()): SessionRecord | undefined {
    return this.#bound(tenantId, key, now) ?? undefined
  }

  async create(
    tenantId: string,
    record: SessionRecord,
    limits: SessionLimits = DEFAULT_LIMITS,
  ): Promise<{ record: SessionRecord; created: boolean; revoked?: string[] }> {
    checkLimits(limits)
    const now = Date.now()
    const keyName = record.key === null ? null : scoped(tenantId, record.key)
    if (keyName !== null) {
      const bound = this.#bound(tenantId, record.key!, now)
      // A revoked record stays bound until it is retained no longer, so its tokens cannot start a fresh session.
      if (bound && (bound.revokedAt !== null || isRecordActive(bound, now)))
        return { record: bound, created: false }
    }
    const userName = scoped(tenantId, record.userId)
    let revokedAt = record.revokedAt
    const marker = this.#markers.get(userName, now)
    if (revokedAt === null && marker !== undefined && record.issuedAt <= marker) revokedAt = marker
    const tombstone = keyName === null ? undefined : this.#tombstones.get(keyName, now)
    if (revokedAt === null && tombstone !== undefined) revokedAt = tombstone
    const stored = freeze({ ...record, tenantId, revokedAt })
    if (stored.retainUntil <= now) return { record: stored, created: true }
    // A revoked record whose credential neither a revoked key nor its user's marker covers yet needs one kept apart.
    const uncovered =
      keyName !== null &&
      revokedAt !== null &&
      tombstone === undefined &&
      (marker === undefined || record.issuedAt > marker)

    if (revokedAt === null) {
      if (record.issuedAt <= this.#floor.at && this.#floor.until > now)
        throw refusal('a revoke-all it could not keep apart may cover this credential')
      const user = this.#users.get(userName)
      const atCap = user !== undefined && this.#activeCount(user, now) >= limits.maxPerUser
      if (atCap && limits.atCap === 'refuse') throw new CoreSDKError('session_limit')
      this.#makeRoom(now, true)
      if (atCap) {
        const capped: string[] = []
        for (const id of user.active.keys()) {
          if (user.active.size < limits.maxPerUser) break
          if (this.#revokeRecord(scoped(tenantId, id), now, true)) capped.push(id)
        }
        this.#insert(scoped(tenantId, stored.id), stored, keyName, userName, now)
        return { record: stored, created: true, revoked: capped }
      }
    } else {
      if (uncovered) this.#reserve(now, 1)
      this.#makeRoom(now, false)
    }
    this.#insert(scoped(tenantId, stored.id), stored, keyName, userName, now)
    if (uncovered) this.#tombstones.set(keyName, revokedAt!, stored.retainUntil)
    return { record: stored, created: true }
  }

  async update(tenantId: string, id: string, patch: SessionPatch): Promise<SessionRecord | null> {
    const name = scoped(tenantId, id)
    const now = Date.now()
    const current = this.#read(name, now)
    if (!current) return null
    const { expiresAt, ...rest } = patch
    // A touch never brings back a session that has stopped being active: it has left its user's bound for good.
    const revivable = current.revokedAt !== null || activeEnd(current) > now
    const next = freeze({
      ...current,
      ...rest,
      ...(expiresAt !== undefined && revivable ? { expiresAt } : {}),
      revokedAt: current.revokedAt,
      id: current.id,
      tenantId,
    })
    const slot = this.#live.get(name, now)
    if (slot !== undefined) {
      slot.record = next
      this.#file(name, slot, activeEnd(next))
    } else {
      const revoked = this.#revoked.get(name)!
      revoked.record = next
      const { keyName } = revoked
      const at = keyName === null ? undefined : this.#tombstones.get(keyName, now)
      if (keyName !== null && at !== undefined && next.retainUntil > current.retainUntil)
        this.#tombstones.set(keyName, at, next.retainUntil)
    }
    return next
  }

  async revoke(tenantId: string, id: string, at: number): Promise<SessionRecord | null> {
    const name = scoped(tenantId, id)
    const current = this.#read(name, Date.now())
    if (!current) return null
    return this.#revokeRecord(name, at, true) ?? current
  }

  async revokeAllForUser(tenantId: string, userId: string, at: number, retainFor: number): Promise<string[]> {
    const now = Date.now()
    const userName = scoped(tenantId, userId)
    const previous = this.#markers.get(userName, now)
    const until = Math.max(at + retainFor, this.#markers.expiresAt(userName) ?? 0)
    this.#setMarker(userName, Math.max(at, previous ?? Number.NEGATIVE_INFINITY), until, now)
    const revoked: string[] = []
    for (const id of this.#users.get(userName)?.active.keys() ?? []) {
      if (this.#revokeRecord(scoped(tenantId, id), at, false)) revoked.push(id)
    }
    this.#emit({ kind: 'user', tenantId, userId, at })
    return revoked
  }

  async revokeOthersForUser(tenantId: string, userId: string, keepId: string, at: number): Promise<string[]> {
    const revoked: string[] = []
    // Within one turn, as every operation here: no create can come between the first revocation and the last.
    for (const id of [...(this.#users.get(scoped(tenantId, userId))?.active.keys() ?? [])]) {
      if (id !== keepId && this.#revokeRecord(scoped(tenantId, id), at, true)) revoked.push(id)
    }
    return revoked
  }

  async getUserRevokedAt(tenantId: string, userId: string): Promise<number | null> {
    const now = Date.now()
    const marker = this.#markers.get(scoped(tenantId, userId), now)
    const floor = this.#floor.until > now ? this.#floor.at : undefined
    if (marker === undefined && floor === undefined) return null
    return Math.max(marker ?? Number.NEGATIVE_INFINITY, floor ?? Number.NEGATIVE_INFINITY)
  }

  async listForUser(tenantId: string, userId: string): Promise<SessionRecord[]> {
    const user = this.#users.get(scoped(tenantId, userId))
    if (!user) return []
    const now = Date.now()
    this.#prune(user, now)
    const out: SessionRecord[] = []
    const ended = user.ended ? [...user.ended.entries()].map(([id]) => id) : []
    for (const id of [...user.active.keys(), ...ended]) {
      const record = this.#read(scoped(tenantId, id), now)
      if (record) out.push(record)
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
    const out: SessionRecord[] = []
    for (const map of [this.#live, this.#revoked])
      for (const [, slot] of map.entries()) out.push({ ...slot.record })
    return out
  }

  /** Drops records, revoked keys and markers past their retention (a full pass: the timer's work). */
  sweep(now: number = Date.now()): void {
    for (const map of [this.#live, this.#revoked]) {
      for (const [name, slot] of map.entries()) if (slot.record.retainUntil <= now) this.#drop(name, slot)
    }
    this.#tombstones.sweep(now)
    this.#markers.sweep(now)
    this.#lastSweep = now
  }

  // ---- Records ----------------------------------------------------------------------------------------------

  /** The record, counting as a use; dropped and null once past its retention. */
  #read(name: string, now: number): SessionRecord | null {
    const slot = this.#live.get(name, now) ?? this.#revoked.get(name, now)
    if (slot === undefined) return null
    slot.used = true
    if (slot.record.retainUntil <= now) {
      this.#drop(name, slot)
      return null
    }
    return slot.record
  }

  #bound(tenantId: string, key: string, now: number): SessionRecord | null {
    const keys = this.#keys.get(tenantId)
    const name = keys?.get(key)
    if (name === undefined) return null
    const record = this.#read(name, now)
    if (record === null) this.#unbind(keys!, tenantId, key)
    return record
  }

  #unbind(keys: Map<string, string>, tenantId: string, key: string): void {
    keys.delete(key)
    if (keys.size === 0) this.#keys.delete(tenantId)
  }

  #insert(name: string, record: SessionRecord, keyName: string | null, userName: string, now: number): void {
    const previous = this.#live.get(name) ?? this.#revoked.get(name)
    if (previous !== undefined) this.#drop(name, previous)
    if (record.key !== null) {
      let keys = this.#keys.get(record.tenantId)
      if (keys === undefined) {
        keys = new Map()
        this.#keys.set(record.tenantId, keys)
      }
      keys.set(record.key, name)
    }
    let user = this.#users.get(userName)
    if (!user) {
      user = {
        name: userName,
        tenantId: record.tenantId,
        active: new Map(),
        ended: null,
        settledUntil: Number.POSITIVE_INFINITY,
      }
      this.#users.set(userName, user)
    }
    const slot: Slot = { record, bucket: -1, keyName, user, used: false, lock: null }
    if (record.revokedAt === null) {
      const end = activeEnd(record)
      this.#live.set(name, slot)
      this.#file(name, slot, end)
      user.active.set(record.id, true)
      if (end < user.settledUntil) user.settledUntil = end
      if (end <= now) this.#end(user, record.id)
    } else {
      this.#revoked.set(name, slot)
      this.#endedOf(user).set(record.id, true)
    }
  }

  /** Revokes a record at `at` (idempotent) and keeps its revocation apart; returns it when this call revoked it. */
  #revokeRecord(name: string, at: number, report: boolean): SessionRecord | null {
    const slot = this.#live.get(name)
    if (slot === undefined) return null
    const next = freeze({ ...slot.record, revokedAt: at })
    this.#unfile(name, slot)
    this.#live.delete(name)
    slot.record = next
    this.#revoked.set(name, slot)
    this.#end(slot.user, next.id)
    // Room is reserved for the revocation of every live record (see #makeRoom), so this never evicts one.
    if (slot.keyName !== null) this.#tombstones.set(slot.keyName, at, next.retainUntil)
    if (report)
      this.#emit({
        kind: 'session',
        tenantId: next.tenantId,
        sessionId: next.id,
        key: next.key,
        userId: next.userId,
        at,
      })
    return next
  }

  #drop(name: string, slot: Slot): void {
    const { record, user } = slot
    if (slot.bucket < 0) this.#revoked.delete(name)
    else {
      this.#unfile(name, slot)
      this.#live.delete(name)
    }
    const keys = record.key === null ? undefined : this.#keys.get(record.tenantId)
    if (keys?.get(record.key!) === name) this.#unbind(keys, record.tenantId, record.key!)
    user.active.delete(record.id)
    user.ended?.delete(record.id)
    if (user.active.size === 0 && (user.ended?.size ?? 0) === 0 && this.#users.get(user.name) === user)
      this.#users.delete(user.name)
  }

  /**
   * Makes room for one more record: at the cap an expired live record goes, else a revoked one (its revocation is
   * kept apart), else the least recently used. A live record also needs room for its future revocation: while
   * unexpired revocations fill that, live records make way the same way, and with none left the create is refused.
   */
  #makeRoom(now: number, live: boolean): void {
    while (this.size >= this.#maxSessions) {
      if (this.#evictExpired(now)) continue
      const revoked = this.#revoked.peek()
      if (revoked !== undefined) this.#drop(revoked.key, revoked.value)
      else this.#evictLive()
    }
    if (live) this.#reserve(now, 1)
  }

  /** Ensures room for `count` more revocations beyond one for each live record, evicting live records if need be. */
  #reserve(now: number, count: number): void {
    const capacity = this.#tombstones.capacity
    const fits = () => this.#tombstones.size + this.#live.size + count <= capacity
    if (fits()) return
    this.#tombstones.prune(now)
    if (!fits() && now - this.#lastSweep >= SWEEP_GAP) {
      this.#tombstones.sweep(now)
      this.#lastSweep = now
    }
    while (!fits() && this.#live.size > 0) if (!this.#evictExpired(now)) this.#evictLive()
    if (!fits()) throw refusal('it holds as many unexpired revocations as maxRevocations allows')
  }

  /**
   * Evicts the least recently used live record, by second chance (CLOCK): the oldest-written record goes unless it
   * was read since it was last passed over, in which case it moves to the back, its mark cleared. A read only sets
   * a mark, and each record moves at most once per read: O(1) amortised, where a move on every read (exact LRU)
   * would cost every request a delete and an insert.
   */
  #evictLive(): void {
    for (let oldest = this.#live.peek(); oldest !== undefined; oldest = this.#live.peek()) {
      const slot = oldest.value
      if (!slot.used) {
        this.#drop(oldest.key, slot)
        return
      }
      slot.used = false
      this.#live.set(oldest.key, slot)
    }
  }

  // ---- The expiry wheel: live records by the second they stop being active ------------------------------------

  #file(name: string, slot: Slot, end: number): void {
    const bucket = Math.max(Math.ceil(end / GRAIN), this.#cursor)
    if (bucket === slot.bucket) return
    this.#unfile(name, slot)
    let names = this.#wheel.get(bucket)
    if (!names) {
      names = new Set()
      this.#wheel.set(bucket, names)
    }
    names.add(name)
    slot.bucket = bucket
  }

  #unfile(name: string, slot: Slot): void {
    if (slot.bucket < 0) return
    const names = this.#wheel.get(slot.bucket)
    names?.delete(name)
    if (names?.size === 0) this.#wheel.delete(slot.bucket)
    slot.bucket = -1
  }

  /** Drops one live record that has stopped being active, if there is one; the cursor only moves forward. */
  #evictExpired(now: number): boolean {
    const due = Math.floor(now / GRAIN)
    while (this.#cursor <= due) {
      const names = this.#wheel.get(this.#cursor)
      const name = names?.values().next().value
      if (name !== undefined) {
        const slot = this.#live.get(name)
        if (slot !== undefined) this.#drop(name, slot)
        else names!.delete(name)
        return true
      }
      this.#wheel.delete(this.#cursor)
      this.#cursor++
    }
    return false
  }

  // ---- Users --------------------------------------------------------------------------------------------------

  /** How many active sessions the user holds, once those that stopped being active have been moved out. */
  #activeCount(user: UserSessions, now: number): number {
    if (now >= user.settledUntil) this.#prune(user, now)
    return user.active.size
  }

  #prune(user: UserSessions, now: number): void {
    let settled = Number.POSITIVE_INFINITY
    for (const id of user.active.keys()) {
      const record = this.#read(scoped(user.tenantId, id), now)
      if (record === null) continue
      const end = activeEnd(record)
      if (end <= now) this.#end(user, id)
      else settled = Math.min(settled, end)
    }
    user.settledUntil = settled
  }

  #end(user: UserSessions, id: string): void {
    user.active.delete(id)
    this.#endedOf(user).set(id, true)
  }

  #endedOf(user: UserSessions): BoundedMap<string, true> {
    user.ended ??= new BoundedMap(ENDED_LISTED)
    return user.ended
  }

  // ---- Revocations kept apart -----------------------------------------------------------------------------------

  #setMarker(name: string, at: number, until: number, now: number): void {
    if (!this.#markers.has(name) && this.#markers.size >= this.#markers.capacity) {
      this.#markers.prune(now)
      if (this.#markers.size >= this.#markers.capacity && now - this.#lastSweep >= SWEEP_GAP) {
        this.#markers.sweep(now)
        this.#lastSweep = now
      }
      const first = this.#markers.size >= this.#markers.capacity ? this.#markers.peek() : undefined
      if (first !== undefined) {
        // Never forgotten: the marker that makes way becomes the floor every user's new sessions are held to.
        this.#floor = {
          at: Math.max(this.#floor.at, first.value),
          until: Math.max(this.#floor.until, first.until),
        }
        this.#markers.delete(first.key)
      }
    }
    this.#markers.set(name, at, until)
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

  async acquireRefreshLock(tenantId: string, id: string, ttl: number): Promise<RefreshLockAnswer> {
    const name = scoped(tenantId, id)
    const now = Date.now()
    const record = this.#read(name, now)
    const slot = this.#live.get(name) ?? this.#revoked.get(name)
    if (record === null || slot === undefined) return { record: null, fence: null }
    // The lock lives in the record's slot: it goes with the record, and the fence never restarts while it is held.
    slot.lock ??= { fence: 0, written: 0, until: 0 }
    const lock = slot.lock
    if (lock.until > now) return { record, fence: null }
    lock.fence++
    lock.until = now + ttl
    return { record, fence: lock.fence }
  }

  async releaseRefreshLock(
    tenantId: string,
    id: string,
    fence: number,
    patch?: SessionPatch,
  ): Promise<RefreshReleaseAnswer> {
    const name = scoped(tenantId, id)
    const slot = this.#live.get(name) ?? this.#revoked.get(name)
    if (slot === undefined || this.#read(name, Date.now()) === null) return { record: null, written: false }
    const lock = slot.lock
    let written = false
    if (patch !== undefined && lock !== null && fence > lock.written && fence <= lock.fence) {
      // update() runs to completion synchronously: nothing comes between the fence check and the write.
      void this.update(tenantId, id, patch)
      lock.written = fence
      written = true
    }
    if (lock !== null && lock.fence === fence) lock.until = 0
    return { record: slot.record, written }
  }

  // One-time keys (`claimOnce`): tenant + key → until when the claim holds.
  readonly #once = new Map<string, number>()

  async claimOnce(tenantId: string, key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now()
    if (expiresAt <= now) return true
    const k = scoped(tenantId, key)
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
