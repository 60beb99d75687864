import type { RevocationEvent, SessionRecord } from './types.ts'

const MAX_ENTRIES = 100_000

/**
 * What this instance knows of revocations: revoked credential keys and users' revoke-all markers. It keeps them
 * enforced when the store is unreachable (`failMode: 'open'`). Bounded; the oldest entries go first.
 */
export class RevocationMemory {
  readonly #keys = new Map<string, number>()
  readonly #users = new Map<string, number>()

  /** Whether a verified token must be refused: its key is revoked, or it was issued at or before its user's revoke-all. */
  rejects(key: string, userId: string, issuedAt: number | null): boolean {
    if (this.#keys.size > 0) {
      const until = this.#keys.get(key)
      if (until !== undefined) {
        if (until > Date.now()) return true
        this.#keys.delete(key)
      }
    }
    if (this.#users.size > 0) {
      const marker = this.#users.get(userId)
      if (marker !== undefined && (issuedAt ?? 0) <= marker) return true
    }
    return false
  }

  /** Learns from a record read from the store. */
  remember(record: SessionRecord): void {
    if (record.revokedAt !== null && record.key !== null)
      this.#set(this.#keys, record.key, record.retainUntil)
  }

  /** Learns from a revocation reported by the store. */
  apply(event: RevocationEvent): void {
    if (event.kind === 'user') {
      this.#set(this.#users, event.userId, Math.max(event.at, this.#users.get(event.userId) ?? 0))
    } else if (event.key !== null) {
      this.#set(this.#keys, event.key, Number.MAX_SAFE_INTEGER)
    }
  }

  #set(map: Map<string, number>, key: string, value: number): void {
    map.delete(key)
    map.set(key, value)
    if (map.size > MAX_ENTRIES) {
      const oldest = map.keys().next().value
      if (oldest !== undefined) map.delete(oldest)
    }
  }
}
