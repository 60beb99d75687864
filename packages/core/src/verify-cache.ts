/**
 * A bounded cache of successful verifications, keyed by the whole token string. An entry never outlives the
 * token's `exp`: its expiry is checked on every hit. When full, the oldest entry makes room (insertion order).
 */
export class VerifyCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>()
  readonly #capacity: number

  /** @param capacity how many entries are kept; 0 disables the cache. */
  constructor(capacity: number) {
    this.#capacity = capacity
  }

  /** How many entries are held (expired ones included until they are next looked up or evicted). */
  get size(): number {
    return this.#entries.size
  }

  /** The value cached for `token`, or undefined when absent or expired at `now` (ms). */
  get(token: string, now: number): T | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (entry.expiresAt > now) return entry.value
    this.#entries.delete(token)
    return undefined
  }

  /** Caches `value` for `token` until `expiresAt` (ms); a value already expired at `now` is not kept. */
  set(token: string, value: T, expiresAt: number, now: number): void {
    if (this.#capacity === 0 || expiresAt <= now) return
    if (this.#entries.size >= this.#capacity && !this.#entries.has(token)) {
      // Map iterates in insertion order, so the first key is the oldest entry.
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(token, { value, expiresAt })
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear()
  }
}
