import { newSessionId, type SessionRecord } from '@coresdk/core/store'

/** A name unique to this run: `prefix_` and random digits. */
export function randomName(prefix: string): string {
  return `${prefix}_${crypto.getRandomValues(new Uint32Array(2)).join('')}`
}

/**
 * A valid {@link SessionRecord} for store tests: an active token session created now, with the given fields replaced.
 * @example
 * const record = makeSessionRecord({ tenantId: 'acme', userId: 'usr_1', key: 'sid:abc' })
 */
export function makeSessionRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  const userId = overrides.userId ?? randomName('usr')
  return {
    id: newSessionId(now),
    tenantId: 'acme',
    userId,
    key: `sid:${randomName('sid')}`,
    origin: 'token',
    createdAt: now,
    issuedAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * 60_000,
    absoluteExpiresAt: now + 24 * 3_600_000,
    revokedAt: null,
    retainUntil: now + 24 * 3_600_000,
    claims: { sub: userId },
    secretHash: null,
    tokens: null,
    meta: {},
    ...overrides,
  }
}
