import { BoundedMap } from './bounded-map.ts'
import type { RevocationEvent, SessionRecord } from './types.ts'

const MAX_ENTRIES = 100_000

/**
 * What this instance knows of revocations: revoked credential keys and users' revoke-all markers. It keeps them
 * enforced when the store is unreachable (`failMode: 'open'`). Bounded; the oldest entries go first.
 */
export class RevocationMemory {
  readonly #keys = new BoundedMap<string, true>(MAX_ENTRIES)
  readonly #users = new BoundedMap<string, number>(MAX_ENTRIES)

  /** Whether a verified token must be refused: its key is revoked, or it was issued at or before its user's revoke-all. */
  rejects(key: string, userId: string, issuedAt: number | null): boolean {
    if (this.#keys.size > 0 && this.#keys.get(key) !== undefined) return true
    if (this.#users.size > 0) {
      const marker = this.#users.get(userId)
      if (marker !== undefined && (issuedAt ?? 0) <= marker) return true
    }
    return false
  }

  /** Learns from a record read from the store. */
  remember(record: SessionRecord): void {
    if (record.revokedAt !== null && record.key !== null) this.#keys.set(record.key, true, record.retainUntil)
  }

  /** Learns from a revocation reported by the store. */
  apply(event: RevocationEvent): void {
    if (event.kind === 'user') {
      this.#users.set(event.userId, Math.max(event.at, this.#users.get(event.userId) ?? 0))
    } else if (event.key !== null) {
      this.#keys.set(event.key, true)
    }
  }
}
