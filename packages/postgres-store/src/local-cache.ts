import { BoundedMap, type RevocationEvent, type SessionRecord } from '@coresdk/core'

/** Settings of the per-instance cache in front of PostgreSQL. */
export interface LocalCacheOptions {
  /**
   * The longest a cached session or marker is used without asking PostgreSQL, in ms: the worst-case delay before a
   * revocation whose notification was lost is seen. 0 disables the cache. @default 1000
   */
  maxStaleness?: number
  /** The most sessions (and as many markers) kept; the oldest go first. @default 10000 */
  maxEntries?: number
}

/** How the cache has been used. */
export interface LocalCacheStats {
  hits: number
  misses: number
  entries: number
  /** False while the revocation channel is not listened to: then every read goes to PostgreSQL. */
  trusted: boolean
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

// Length-prefixed, so that no tenant and id can produce another pair's key (tenants may hold any character).
function slot(tenantId: string, part: string): string {
  return `${tenantId.length}:${tenantId}${part}`
}

/**
 * Session state cached per instance: sessions by id and by key, and users' revoke-all markers, each for at most
 * `maxStaleness`. Revocation notifications update it. A read may fill it only when nothing changed trust or
 * delivered a notification while the read was in flight (the `epoch` check), so a reply older than a revocation, or
 * one read before the channel was listened to, is never cached.
 */
export class LocalCache {
  readonly #byId: BoundedMap<string, SessionRecord>
  readonly #byKey: BoundedMap<string, string>
  readonly #markers: BoundedMap<string, number | null>
  readonly #maxStaleness: number
  readonly #now: () => number
  #trusted = false
  #epoch = 0
  #hits = 0
  #misses = 0

  constructor(options: LocalCacheOptions = {}, now: () => number = Date.now) {
    this.#maxStaleness = Math.max(0, options.maxStaleness ?? 1000)
    const entries = this.#maxStaleness > 0 ? Math.max(0, options.maxEntries ?? 10_000) : 0
    this.#byId = new BoundedMap(entries)
    this.#byKey = new BoundedMap(entries)
    this.#markers = new BoundedMap(entries)
    this.#now = now
  }

  /** Bumped by every notification and every change of trust; reads compare it before caching. */
  get epoch(): number {
    return this.#epoch
  }

  /** Starts using the cache: the channel is listened to. Only reads that start from now on may fill it. */
  trust(): void {
    this.#trusted = true
    this.#epoch++
  }

  /** Stops using the cache and forgets it (notifications may have been missed). */
  distrust(): void {
    this.#trusted = false
    this.forgetAll()
  }

  /** Forgets everything cached (a notification that could not be read may concern anything). */
  forgetAll(): void {
    this.#epoch++
    this.#byId.clear()
    this.#byKey.clear()
    this.#markers.clear()
  }

  /** The cached session, or undefined. */
  get(tenantId: string, id: string): SessionRecord | undefined {
    if (!this.#trusted) return undefined
    const record = this.#byId.get(slot(tenantId, id), this.#now())
    if (record === undefined) this.#misses++
    else this.#hits++
    // Frozen when cached: handed out as it is, with no copy on the read of every request.
    return record
  }

  /** The cached session bound to a key, or undefined. */
  getByKey(tenantId: string, key: string): SessionRecord | undefined {
    if (!this.#trusted) return undefined
    const id = this.#byKey.get(slot(tenantId, key), this.#now())
    const record = id === undefined ? undefined : this.#byId.get(slot(tenantId, id), this.#now())
    if (record === undefined || record.key !== key) {
      this.#misses++
      return undefined
    }
    this.#hits++
    return record
  }

  /** Caches a session read or written at `epoch`; a revoked one is cached whatever the epoch (revocation is final). */
  put(tenantId: string, record: SessionRecord, epoch: number): void {
    if (!this.#trusted || this.#byId.capacity === 0) return
    if (epoch !== this.#epoch && record.revokedAt === null) return
    const now = this.#now()
    const until = Math.min(now + this.#maxStaleness, record.retainUntil)
    if (until <= now) return
    this.#byId.set(slot(tenantId, record.id), deepFreeze(structuredClone(record)), until)
    if (record.key !== null) this.#byKey.set(slot(tenantId, record.key), record.id, until)
  }

  /** The cached revoke-all marker (null: none), or undefined when not cached. */
  getMarker(tenantId: string, userId: string): number | null | undefined {
    if (!this.#trusted) return undefined
    const at = this.#markers.get(slot(tenantId, userId), this.#now())
    if (at === undefined) this.#misses++
    else this.#hits++
    return at
  }

  /** Caches a marker read at `epoch`. */
  putMarker(tenantId: string, userId: string, at: number | null, epoch: number): void {
    if (!this.#trusted || epoch !== this.#epoch) return
    this.#markers.set(slot(tenantId, userId), at, this.#now() + this.#maxStaleness)
  }

  /** Applies a revocation: a session is marked revoked; a user's cached sessions and marker are forgotten. */
  apply(event: RevocationEvent): void {
    this.#epoch++
    if (event.kind === 'session') {
      const k = slot(event.tenantId, event.sessionId)
      const until = this.#byId.expiresAt(k)
      const record = this.#byId.get(k, this.#now())
      if (record !== undefined && until !== undefined && record.revokedAt === null) {
        this.#byId.set(k, Object.freeze({ ...record, revokedAt: event.at }), until)
      }
      return
    }
    this.#markers.delete(slot(event.tenantId, event.userId))
    // A full pass over at most maxEntries sessions, once per revoke-all: rare, and bounded.
    for (const [k, record] of this.#byId.entries(this.#now())) {
      if (record.userId === event.userId && record.tenantId === event.tenantId) this.#byId.delete(k)
    }
  }

  /** Counters and size, for monitoring. */
  stats(): LocalCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#byId.size, trusted: this.#trusted }
  }
}
