/** Options of {@link BoundedMap}. */
export interface BoundedMapOptions {
  /**
   * Whether a read makes an entry the most recent (least-recently-used eviction) or only a write does
   * (oldest-written eviction, a read costs one lookup). @default 'write'
   */
  recency?: 'read' | 'write'
}

interface Slot<V> {
  value: V
  until: number
}

/**
 * A Map with a capacity and an optional expiry per entry: the one bounded map behind every cache and memory in
 * CoreSDK (verify cache, revocation memory, sidecar cache, store caches). Insertion order is recency order, so the
 * entry to evict is always the first: at capacity an insert drops an expired first entry, else the least recent
 * one. Every operation is O(1); an expired entry is dropped when it is next read or reaches the front.
 */
export class BoundedMap<K, V> {
  readonly #slots = new Map<K, Slot<V>>()
  readonly #capacity: number
  readonly #byRead: boolean
  // The first entry, and an iterator kept just past it. A Map keeps the place of a deleted entry until its table is
  // rebuilt, and a fresh iterator walks every such place: asking `entries().next()` for the first entry after n
  // evictions from the front costs n. A kept iterator passes each place once (a live Map iterator follows deletions,
  // insertions and rebuilds), so finding the first entry is O(1) amortised.
  #cursor: Iterator<[K, Slot<V>]> | undefined
  #head: [K, Slot<V>] | undefined

  /** @param capacity how many entries are kept; 0 keeps none. */
  constructor(capacity: number, options: BoundedMapOptions = {}) {
    this.#capacity = Math.max(0, Math.floor(capacity))
    this.#byRead = options.recency === 'read'
  }

  /** How many entries are held (expired ones included until they are next read or evicted). */
  get size(): number {
    return this.#slots.size
  }

  /** The most entries kept. */
  get capacity(): number {
    return this.#capacity
  }

  /** The value for `key`, or undefined when absent or expired at `now` (ms). */
  get(key: K, now: number = Date.now()): V | undefined {
    const slot = this.#slots.get(key)
    if (slot === undefined) return undefined
    if (slot.until <= now) {
      this.#slots.delete(key)
      return undefined
    }
    if (this.#byRead) {
      this.#slots.delete(key)
      this.#slots.set(key, slot)
      // Moved to the end with the same slot: no longer the first, though the slot still matches.
      if (this.#head?.[0] === key) this.#head = undefined
    }
    return slot.value
  }

  /** Whether `key` holds a value that has not expired at `now`. Never changes recency. */
  has(key: K, now: number = Date.now()): boolean {
    const slot = this.#slots.get(key)
    return slot !== undefined && slot.until > now
  }

  /** When the entry for `key` expires (ms), or undefined when absent. */
  expiresAt(key: K): number | undefined {
    return this.#slots.get(key)?.until
  }

  /**
   * Stores `value` as the most recent entry until `until` (ms; never by default). When full, the first entry
   * makes room. Returns the entry it evicted, if any, so callers that must not lose it can react.
   */
  set(key: K, value: V, until: number = Number.POSITIVE_INFINITY): [K, V] | undefined {
    if (this.#capacity === 0) return undefined
    const existed = this.#slots.delete(key)
    let evicted: [K, V] | undefined
    if (!existed && this.#slots.size >= this.#capacity) evicted = this.shift()
    this.#slots.set(key, { value, until })
    return evicted
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    return this.#slots.delete(key)
  }

  /** Removes and returns the first (least recent) entry. */
  shift(): [K, V] | undefined {
    const first = this.#first()
    if (first === undefined) return undefined
    this.#slots.delete(first[0])
    return [first[0], first[1].value]
  }

  /** The first (least recent) entry and its expiry, without removing it. */
  peek(): { key: K; value: V; until: number } | undefined {
    const first = this.#first()
    return first === undefined ? undefined : { key: first[0], value: first[1].value, until: first[1].until }
  }

  /** Drops expired entries from the front, at most `limit` of them; returns how many it dropped. */
  prune(now: number = Date.now(), limit = Number.POSITIVE_INFINITY): number {
    let dropped = 0
    for (
      let first = this.#first();
      first !== undefined && dropped < limit && first[1].until <= now;
      dropped++
    ) {
      this.#slots.delete(first[0])
      first = this.#first()
    }
    return dropped
  }

  /** Drops every expired entry, wherever it sits (a full pass: for timers, not for the request path). */
  sweep(now: number = Date.now()): number {
    let dropped = 0
    for (const [key, slot] of this.#slots) {
      if (slot.until <= now) {
        this.#slots.delete(key)
        dropped++
      }
    }
    return dropped
  }

  /** Every unexpired entry, least recent first. */
  *entries(now: number = Date.now()): IterableIterator<[K, V]> {
    for (const [key, slot] of this.#slots) if (slot.until > now) yield [key, slot.value]
  }

  /** Drops every entry. */
  clear(): void {
    this.#slots.clear()
    this.#cursor = undefined
    this.#head = undefined
  }

  #first(): [K, Slot<V>] | undefined {
    const head = this.#head
    // Still first unless deleted or written again since (a write makes a new slot at the end).
    if (head !== undefined && this.#slots.get(head[0]) === head[1]) return head
    this.#head = undefined
    if (this.#slots.size === 0) {
      this.#cursor = undefined
      return undefined
    }
    this.#cursor ??= this.#slots.entries()
    for (let next = this.#cursor.next(); !next.done; next = this.#cursor.next()) {
      if (this.#slots.get(next.value[0]) === next.value[1]) {
        this.#head = next.value
        return next.value
      }
    }
    // An iterator that has reached the end stays done: the next entry needs a new one.
    this.#cursor = undefined
    return undefined
  }
}
