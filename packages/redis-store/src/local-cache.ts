import type { RevocationEvent, SessionRecord } from '@coresdk/core'

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** Settings of the per-instance cache in front of Redis. */
export interface LocalCacheOptions {
  /**
   * The longest a cached session or marker is used without asking Redis, in ms: the worst-case delay before a
   * revocation whose message was lost is seen. 0 disables the cache. @default 1000
   */
  maxStaleness?: number
  /** The most sessions (and as many markers) kept; the oldest go first. @default 10000 */
  maxEntries?: number
}

interface Entry {
  record: SessionRecord
  until: number
}

interface MarkerEntry {
  at: number | null
  until: number
}

// One tenant's entry name: the tenant's length first, so that no tenant and name, whatever they hold, can spell
// another pair (a separator could appear inside either).
function scoped(tenantId: string, name: string): string {
  return `${tenantId.length}:${tenantId}${name}`
}

/** How the cache has been used. */
export interface LocalCacheStats {
  hits: number
  misses: number
  entries: number
  /** False while the revocation channel is not subscribed: then every read goes to Redis. */
  trusted: boolean
}

/**
 * Session state cached per instance: sessions by id and by key, users' revoke-all markers, and which user a session
 * id belongs to (that never changes). Revocation messages update it; a read may fill it only when no message arrived
 * while the read was in flight (the `epoch` check), so a reply older than a revocation is never cached.
 */
export class LocalCache {
  readonly #byId = new Map<string, Entry>()
  readonly #byKey = new Map<string, string>()
  readonly #markers = new Map<string, MarkerEntry>()
  readonly #owners = new Map<string, string>()
  readonly #maxStaleness: number
  readonly #maxEntries: number
  readonly #now: () => number
  #trusted = false
  #epoch = 0
  #hits = 0
  #misses = 0

  constructor(options: LocalCacheOptions = {}, now: () => number = Date.now) {
    this.#maxStaleness = options.maxStaleness ?? 1000
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#now = now
  }

  /** Bumped by every revocation message and every loss of trust; reads compare it before caching. */
  get epoch(): number {
    return this.#epoch
  }

  /** Whether the cache is in use. */
  get enabled(): boolean {
    return this.#maxStaleness > 0 && this.#maxEntries > 0
  }

  /** Starts using the cache (the channel is subscribed). */
  trust(): void {
    this.#trusted = true
  }

  /** Stops using the cache and forgets it (the channel may have missed messages). */
  distrust(): void {
    this.#trusted = false
    this.#epoch++
    this.#byId.clear()
    this.#byKey.clear()
    this.#markers.clear()
  }

  /** The cached session, or undefined. */
  get(tenantId: string, id: string): SessionRecord | undefined {
    if (!this.#trusted) return undefined
    const k = scoped(tenantId, id)
    const entry = this.#byId.get(k)
    if (entry === undefined || entry.until <= this.#now()) {
      if (entry !== undefined) this.#byId.delete(k)
      this.#misses++
      return undefined
    }
    this.#hits++
    // Frozen when cached: handed out as it is, with no copy on the read of every request.
    return entry.record
  }

  /** The cached session bound to a key, or undefined. */
  getByKey(tenantId: string, key: string): SessionRecord | undefined {
    if (!this.#trusted) return undefined
    const id = this.#byKey.get(scoped(tenantId, key))
    if (id === undefined) {
      this.#misses++
      return undefined
    }
    const record = this.get(tenantId, id)
    if (record === undefined || record.key !== key) this.#byKey.delete(scoped(tenantId, key))
    return record?.key === key ? record : undefined
  }

  /** Caches a session read or written at `epoch`; a revoked one is cached whatever the epoch (revocation is final). */
  put(tenantId: string, record: SessionRecord, epoch: number): void {
    this.#owners.set(scoped(tenantId, record.id), record.userId)
    this.#trim(this.#owners)
    if (!this.#trusted || !this.enabled) return
    if (epoch !== this.#epoch && record.revokedAt === null) return
    const now = this.#now()
    const until = Math.min(now + this.#maxStaleness, record.retainUntil)
    if (until <= now) return
    const k = scoped(tenantId, record.id)
    this.#byId.delete(k)
    this.#byId.set(k, { record: deepFreeze(structuredClone(record)), until })
    if (record.key !== null) this.#byKey.set(scoped(tenantId, record.key), record.id)
    this.#trim(this.#byId)
    this.#trim(this.#byKey)
  }

  /** The user a session id belongs to, when known. */
  owner(tenantId: string, id: string): string | undefined {
    return this.#owners.get(scoped(tenantId, id))
  }

  /** Remembers the user of a session id. */
  setOwner(tenantId: string, id: string, userId: string): void {
    this.#owners.set(scoped(tenantId, id), userId)
    this.#trim(this.#owners)
  }

  /** The cached revoke-all marker (null: none), or undefined when not cached. */
  getMarker(tenantId: string, userId: string): number | null | undefined {
    if (!this.#trusted) return undefined
    const k = scoped(tenantId, userId)
    const entry = this.#markers.get(k)
    if (entry === undefined || entry.until <= this.#now()) {
      if (entry !== undefined) this.#markers.delete(k)
      this.#misses++
      return undefined
    }
    this.#hits++
    return entry.at
  }

  /** Caches a marker read at `epoch`. */
  putMarker(tenantId: string, userId: string, at: number | null, epoch: number): void {
    if (!this.#trusted || !this.enabled || epoch !== this.#epoch) return
    this.#markers.set(scoped(tenantId, userId), { at, until: this.#now() + this.#maxStaleness })
    this.#trim(this.#markers)
  }

  /** Applies a revocation: a session is marked revoked; a user's cached sessions and marker are forgotten. */
  apply(event: RevocationEvent): void {
    this.#epoch++
    if (event.kind === 'session') {
      const k = scoped(event.tenantId, event.sessionId)
      const entry = this.#byId.get(k)
      if (entry !== undefined && entry.record.revokedAt === null) {
        entry.record = Object.freeze({ ...entry.record, revokedAt: event.at })
      }
      return
    }
    this.forgetUser(event.tenantId, event.userId)
  }

  /** Forgets a user's cached sessions and marker. */
  forgetUser(tenantId: string, userId: string): void {
    this.#markers.delete(scoped(tenantId, userId))
    for (const [k, entry] of this.#byId) {
      if (entry.record.userId === userId && k.startsWith(scoped(tenantId, ''))) this.#byId.delete(k)
    }
  }

  /** Counters and size, for monitoring. */
  stats(): LocalCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#byId.size, trusted: this.#trusted }
  }

  #trim(map: Map<string, unknown>): void {
    const max = Math.max(this.#maxEntries, 1)
    while (map.size > max) {
      const oldest = map.keys().next().value
      if (oldest === undefined) return
      map.delete(oldest)
    }
  }
}
