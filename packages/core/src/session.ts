import type { Claims, SessionRecord } from './types.ts'

/** A session as the application sees it: no secret, no token. */
export class Session {
  /** `sess_` followed by 26 Crockford base32 characters. */
  readonly id: string
  /** The `sub` of the user the session belongs to. */
  readonly userId: string
  readonly tenantId: string
  /** How the session began: a bearer token on a request, or a login through `sessions().create()`. */
  readonly origin: 'token' | 'login'
  readonly createdAt: Date
  readonly lastSeenAt: Date
  /** When the session ends unless used again (idle), never later than its absolute lifetime. */
  readonly expiresAt: Date
  /** When the session ends whatever its use. */
  readonly absoluteExpiresAt: Date
  readonly revokedAt: Date | null
  /** The verified claims of the credential that created the session. */
  readonly claims: Claims
  /** Non-secret details recorded at creation, such as `userAgent`. */
  readonly meta: Readonly<Record<string, string>>

  constructor(record: SessionRecord) {
    this.id = record.id
    this.userId = record.userId
    this.tenantId = record.tenantId
    this.origin = record.origin
    this.createdAt = new Date(record.createdAt)
    this.lastSeenAt = new Date(record.lastSeenAt)
    this.expiresAt = new Date(record.expiresAt)
    this.absoluteExpiresAt = new Date(record.absoluteExpiresAt)
    this.revokedAt = record.revokedAt === null ? null : new Date(record.revokedAt)
    this.claims = record.claims
    this.meta = { ...record.meta }
  }

  /** Whether the session is neither revoked nor expired at `now`. */
  isActive(now: number = Date.now()): boolean {
    return isRecordActive(this, now)
  }

  /** A JSON view with ISO dates, without claims beyond `sub` (safe to return to the session's owner). */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      userId: this.userId,
      tenantId: this.tenantId,
      origin: this.origin,
      createdAt: this.createdAt.toISOString(),
      lastSeenAt: this.lastSeenAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      revokedAt: this.revokedAt?.toISOString() ?? null,
      active: this.isActive(),
      meta: this.meta,
    }
  }
}

/** A session just created by `sessions().create()`: it carries the cookie secret, shown only this once. */
export class CreatedSession extends Session {
  /** The opaque cookie secret (at least 128 bits, base64url); only its hash is stored. */
  readonly secret: string
  /** The `Set-Cookie` header value that starts this session in a browser. */
  readonly setCookie: string

  constructor(record: SessionRecord, secret: string, setCookie: string) {
    super(record)
    this.secret = secret
    this.setCookie = setCookie
  }

  override toJSON(): Record<string, unknown> {
    // The secret is never serialised: it reaches the browser only through Set-Cookie.
    return super.toJSON()
  }
}

type Times = { revokedAt: number | Date | null; expiresAt: number | Date; absoluteExpiresAt: number | Date }

/** Whether a session (or record) is neither revoked nor expired at `now` (ms). */
export function isRecordActive(record: Times, now: number = Date.now()): boolean {
  return record.revokedAt === null && +record.expiresAt > now && +record.absoluteExpiresAt > now
}
