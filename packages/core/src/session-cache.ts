import { BoundedMap } from './bounded-map.ts'
import type { RevocationEvent, SessionRecord } from './types.ts'

/** Settings of a store's per-instance cache of sessions and revoke-all markers. */
export interface SessionCacheOptions {
  /**
   * The longest a cached session or marker is used without asking the store, in ms: the worst-case delay before a
   * revocation whose message was lost is seen. 0 disables the cache. @default 1000
   */
  maxStaleness?: number
  /** The most sessions (and as many markers) kept; the oldest go first. @default 10000 */
  maxEntries?: number
}

/** How a {@link SessionCache} has been used. */
export interface SessionCacheStats {
  hits: number
  misses: number
  entries: number
  /** False while the revocation channel is not listened to: then every read goes to the store. */
  trusted: boolean
}

interface Entry {
  record: SessionRecord
  /** The epoch the record was cached at: a user message at a later epoch makes it stale. */
  epoch: number
}

/** A value of one tenant. */
interface Owned<V> {
  tenantId: string
  value: V
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

// A forgotten user's name: the tenant's length first, so that no tenant and name, whatever they hold, can spell
// another pair (a separator could appear inside either).
function scoped(tenantId: string, name: string): string {
  return `${tenantId.length}:${tenantId}${name}`
}

// The other maps are keyed by the name alone (a session id, a credential key, a user id), each value holding its
// tenant: a lookup hashes the very string the request brought (a cached token's key, a record's id), with its hash
// kept, and builds none. Two tenants' entries of one name take turns in one place: a read of the other tenant's is a
// miss.
function mine<V>(owned: Owned<V> | undefined, tenantId: string): V | undefined {
  return owned !== undefined && owned.tenantId === tenantId ? owned.value : undefined
}

/**
 * The per-instance cache a store with a revocation channel keeps in front of its database: sessions by id and by
 * key, users' revoke-all markers, and which user a session id belongs to (that never changes).
 *
 * Revocation messages update it ({@link SessionCache.apply}); a read may fill it only when nothing changed trust or
 * delivered a message while the read was in flight (the `epoch` check), so a reply older than a revocation, or one
 * read before the channel was listened to, is never cached. Every map is a {@link BoundedMap}: each operation, a
 * user's revoke-all included, is O(1).
 * @example
 * const epoch = cache.epoch
 * const record = cache.get(tenantId, id) ?? (await readFromDatabase(tenantId, id))
 * if (record !== null) cache.put(tenantId, record, epoch)
 */
export class SessionCache {
  readonly #byId: BoundedMap<string, Owned<Entry>>
  readonly #byKey: BoundedMap<string, Owned<string>>
  readonly #markers: BoundedMap<string, Owned<number | null>>
  readonly #owners: BoundedMap<string, Owned<string>>
  // The epoch at which each user was last forgotten, for as long as an entry cached before it could live.
  readonly #forgotten: BoundedMap<string, number>
  readonly #maxStaleness: number
  readonly #enabled: boolean
  readonly #now: () => number
  // Reads in flight, by kind, epoch and name: see {@link SessionCache.shared}.
  readonly #reading = new Map<string, Promise<unknown>>()
  #trusted = false
  #epoch = 0
  #hits = 0
  #misses = 0

  constructor(options: SessionCacheOptions = {}, now: () => number = Date.now) {
    this.#maxStaleness = Math.max(0, options.maxStaleness ?? 1000)
    const maxEntries = Math.max(options.maxEntries ?? 10_000, 0)
    this.#enabled = this.#maxStaleness > 0 && maxEntries > 0
    this.#byId = new BoundedMap(maxEntries)
    this.#byKey = new BoundedMap(maxEntries)
    this.#markers = new BoundedMap(maxEntries)
    // Owners are kept even with the cache off: the user of a session id never changes.
    this.#owners = new BoundedMap(Math.max(maxEntries, 1_000))
    this.#forgotten = new BoundedMap(maxEntries)
    this.#now = now
  }

  /** Bumped by every revocation message and every change of trust; reads compare it before caching. */
  get epoch(): number {
    return this.#epoch
  }

  /** Whether the cache is in use. */
  get enabled(): boolean {
    return this.#enabled
  }

  /** Starts using the cache: the channel is listened to. Only reads that start from now on may fill it. */
  trust(): void {
    this.#trusted = true
    this.#epoch++
  }

  /** Stops using the cache and forgets it (the channel may have missed messages). */
  distrust(): void {
    this.#trusted = false
    this.forgetAll()
  }

  /** Forgets everything cached (a message that could not be read may concern anything). */
  forgetAll(): void {
    this.#epoch++
    this.#byId.clear()
    this.#byKey.clear()
    this.#markers.clear()
    this.#forgotten.clear()
  }

  /** The cached session, or undefined. */
  get(tenantId: string, id: string): SessionRecord | undefined {
    if (!this.#trusted) return undefined
    return this.#get(tenantId, id, this.#now())
  }

  #get(tenantId: string, id: string, now: number): SessionRecord | undefined {
    const entry = mine(this.#byId.get(id, now), tenantId)
    if (entry === undefined || this.#isForgotten(tenantId, entry, now)) {
      if (entry !== undefined) this.#byId.delete(id)
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
    const now = this.#now()
    const id = mine(this.#byKey.get(key, now), tenantId)
    if (id === undefined) {
      this.#misses++
      return undefined
    }
    const record = this.#get(tenantId, id, now)
    if (record?.key === key) return record
    this.#byKey.delete(key)
    return undefined
  }

  /** Caches a session read or written at `epoch`; a revoked one is cached whatever the epoch (revocation is final). */
  put(tenantId: string, record: SessionRecord, epoch: number): void {
    this.#owners.set(record.id, { tenantId, value: record.userId })
    if (!this.#trusted || !this.#enabled) return
    if (epoch !== this.#epoch && record.revokedAt === null) return
    const now = this.#now()
    const until = Math.min(now + this.#maxStaleness, record.retainUntil)
    if (until <= now) return
    const entry = { record: deepFreeze(structuredClone(record)), epoch }
    this.#byId.set(record.id, { tenantId, value: entry }, until)
    if (record.key !== null) this.#byKey.set(record.key, { tenantId, value: record.id }, until)
  }

  /**
   * Runs `read` (a store read of one session by id or key, or of a user's marker) once for every caller that misses
   * the cache while it is in flight: without it, each request arriving between an entry's expiry and the store's
   * answer sends its own read, hundreds of them on a busy instance, every `maxStaleness`. A caller joins only a read
   * that began at the current epoch, so that a read sent before a revocation message is never shared with a request
   * that arrived after it (that request sends its own); each joiner gets its own copy of the answer.
   */
  shared<T>(
    kind: 'id' | 'key' | 'marker',
    tenantId: string,
    name: string,
    read: () => Promise<T>,
  ): Promise<T> {
    if (!this.#trusted || !this.#enabled) return read()
    const slot = `${kind}${this.#epoch}:${scoped(tenantId, name)}`
    const running = this.#reading.get(slot) as Promise<T> | undefined
    if (running !== undefined) return running.then((value) => structuredClone(value))
    const started = read()
    this.#reading.set(slot, started)
    const done = (): void => {
      if (this.#reading.get(slot) === started) this.#reading.delete(slot)
    }
    started.then(done, done)
    return started
  }

  /** The user a session id belongs to, when known. */
  owner(tenantId: string, id: string): string | undefined {
    return mine(this.#owners.get(id), tenantId)
  }

  /** Remembers the user of a session id. */
  setOwner(tenantId: string, id: string, userId: string): void {
    this.#owners.set(id, { tenantId, value: userId })
  }

  /** The cached revoke-all marker (null: none), or undefined when not cached. */
  getMarker(tenantId: string, userId: string): number | null | undefined {
    if (!this.#trusted) return undefined
    const at = mine(this.#markers.get(userId, this.#now()), tenantId)
    if (at === undefined) this.#misses++
    else this.#hits++
    return at
  }

  /** Caches a marker read at `epoch`. */
  putMarker(tenantId: string, userId: string, at: number | null, epoch: number): void {
    if (!this.#trusted || !this.#enabled || epoch !== this.#epoch) return
    this.#markers.set(userId, { tenantId, value: at }, this.#now() + this.#maxStaleness)
  }

  /** Applies a revocation: a session is marked revoked; a user's cached sessions and marker are forgotten. */
  apply(event: RevocationEvent): void {
    this.#epoch++
    if (event.kind === 'session') {
      const id = event.sessionId
      const until = this.#byId.expiresAt(id)
      const owned = this.#byId.get(id, this.#now())
      const entry = mine(owned, event.tenantId)
      if (entry !== undefined && until !== undefined && entry.record.revokedAt === null) {
        const record = Object.freeze({ ...entry.record, revokedAt: event.at })
        this.#byId.set(id, { tenantId: event.tenantId, value: { record, epoch: this.#epoch } }, until)
      } else if (owned !== undefined && entry === undefined) this.#byId.delete(id)
      return
    }
    this.forgetUser(event.tenantId, event.userId)
  }

  /** Forgets a user's cached sessions and marker, in O(1): entries cached before now are no longer served. */
  forgetUser(tenantId: string, userId: string): void {
    if (this.#markers.get(userId)?.tenantId === tenantId) this.#markers.delete(userId)
    const now = this.#now()
    // Marks are written in time order and all live maxStaleness, so the expired ones are at the front.
    this.#forgotten.prune(now)
    // Too many users forgotten at once to remember them all: forgetting everything instead is always safe.
    if (this.#forgotten.size >= this.#forgotten.capacity) this.forgetAll()
    // An entry cached before this lives at most maxStaleness more: so long the mark must be kept.
    this.#forgotten.set(scoped(tenantId, userId), this.#epoch, now + this.#maxStaleness)
  }

  /** Counters and size, for monitoring. */
  stats(): SessionCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#byId.size, trusted: this.#trusted }
  }

  #isForgotten(tenantId: string, entry: Entry, now: number): boolean {
    // Marks live maxStaleness after a user's revocation: only then is a scoped name built.
    if (this.#forgotten.size === 0) return false
    const at = this.#forgotten.get(scoped(tenantId, entry.record.userId), now)
    return at !== undefined && entry.epoch < at
  }
}
