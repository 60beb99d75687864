import { BoundedMap } from './bounded-map.ts'
import type { RevocationEvent, SessionRecord } from './types.ts'

const MAX_ENTRIES = 100_000

/**
 * What this instance knows of revocations: revoked session keys and ids, and users' revoke-all cutoffs. The
 * pipeline consults it on every request, in both modes, so a revocation learnt here holds even when the store or the
 * sidecar is unreachable (`failMode: 'open'`) or a cache upstream is stale. Bounded; the oldest entries go first.
 */
export class RevocationMemory {
  readonly #keys = new BoundedMap<string, true>(MAX_ENTRIES)
  readonly #sessions = new BoundedMap<string, true>(MAX_ENTRIES)
  readonly #users = new BoundedMap<string, number>(MAX_ENTRIES)

  /** Whether any session key is remembered (a token's own hash is worth computing only then). */
  get holdsKeys(): boolean {
    return this.#keys.size > 0
  }

  /**
   * Whether a credential must be refused: its session (by key or id, where known) is revoked, or it was issued
   * (see `VerifiedToken.issuedAt`) at or before its user's revoke-all. Positional, as it runs on every request.
   */
  rejects(
    key: string | null,
    sessionId: string | null,
    userId: string,
    issuedAt: number,
    now?: number,
  ): boolean {
    // Without the caller's `now`, each map reads the clock itself, and only when it holds something.
    if (key !== null && this.#keys.size > 0 && this.#keys.get(key, now) !== undefined) return true
    if (sessionId !== null && this.#sessions.size > 0 && this.#sessions.get(sessionId, now) !== undefined)
      return true
    if (this.#users.size > 0) {
      const cutoff = this.#users.get(userId, now)
      if (cutoff !== undefined && issuedAt <= cutoff) return true
    }
    return false
  }

  /** Learns from a record read from the store or the sidecar: a revoked one stays refused while it is retained. */
  remember(record: SessionRecord): void {
    if (record.revokedAt === null) return
    this.#sessions.set(record.id, true, record.retainUntil)
    if (record.key !== null) this.#keys.set(record.key, true, record.retainUntil)
  }

  /** Learns from a revocation reported by the store, or made through this client. */
  apply(event: RevocationEvent): void {
    if (event.kind === 'user') {
      this.#users.set(event.userId, Math.max(event.at, this.#users.get(event.userId) ?? 0))
    } else {
      this.#sessions.set(event.sessionId, true)
      if (event.key !== null) this.#keys.set(event.key, true)
    }
  }
}
