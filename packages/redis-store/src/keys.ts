/**
 * Escapes a tenant, user, session id or credential key for use inside a Redis key: no `:`, `{` or `}` survive, and
 * two different strings never give one name. Never throws: `encodeURIComponent` refuses a lone UTF-16 surrogate,
 * which is written `%uD800` instead (its output never holds `%u`, so the two forms cannot meet). The result is
 * ASCII, so nothing is lost on the way to Redis (a lone surrogate sent as UTF-8 would become U+FFFD).
 */
export function encodeKeyPart(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    let out = ''
    // The string iterator yields code points, and a lone surrogate as a string of its own.
    for (const char of value) {
      const code = char.charCodeAt(0)
      out +=
        char.length === 1 && code >= 0xd800 && code <= 0xdfff
          ? `%u${code.toString(16).toUpperCase()}`
          : encodeURIComponent(char)
    }
    return out
  }
}

/**
 * The key layout. Everything of one user shares the hash tag `{u:<userId>}`, so the Lua scripts that touch a session,
 * its key binding, the user's index and the user's revoke-all marker run on one Redis Cluster slot. Two small
 * pointer keys (session id → user, credential key → user) let `get` and `getByKey` find that slot.
 */
export class KeyLayout {
  readonly #prefix: string

  constructor(prefix: string) {
    this.#prefix = prefix
  }

  /** The pub/sub channel revocations are published on (one per prefix, every tenant). */
  get channel(): string {
    return `${this.#prefix}:revocations`
  }

  /** The common start of every key of one user; scripts append `s:<id>`, `k:<key>`, `idx`, `rev`. */
  userBase(tenantId: string, userId: string): string {
    return `${this.#prefix}:${encodeKeyPart(tenantId)}:{u:${encodeKeyPart(userId)}}:`
  }

  /** The user's index: a sorted set of session ids scored by `retainUntil`. Scripts are routed by it. */
  userIndex(tenantId: string, userId: string): string {
    return `${this.userBase(tenantId, userId)}idx`
  }

  /** The user's revoke-all marker. */
  userMarker(tenantId: string, userId: string): string {
    return `${this.userBase(tenantId, userId)}rev`
  }

  /** A session's hash. */
  session(tenantId: string, userId: string, id: string): string {
    return `${this.userBase(tenantId, userId)}s:${encodeKeyPart(id)}`
  }

  /** The pointer from a session id to its user. */
  idPointer(tenantId: string, id: string): string {
    return `${this.#prefix}:${encodeKeyPart(tenantId)}:id:${encodeKeyPart(id)}`
  }

  /** The pointer from a credential key to its user. */
  keyPointer(tenantId: string, key: string): string {
    return `${this.#prefix}:${encodeKeyPart(tenantId)}:key:${encodeKeyPart(key)}`
  }

  /** A one-time key (`claimOnce`). */
  once(tenantId: string, key: string): string {
    return `${this.#prefix}:${encodeKeyPart(tenantId)}:once:${encodeKeyPart(key)}`
  }
}
