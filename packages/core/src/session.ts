import { parseUserAgent, type UserAgentInfo } from './client-device.ts'
import type { Claims, SessionRecord } from './types.ts'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** The record behind a session, for core's own modules (the sidecar wire codec); not exported from the package. */
export let recordOf: (session: Session) => SessionRecord

/** A session as the application sees it: no secret, no token. */
export class Session {
  // Dates are built on first read: a Session is made on every authenticated request.
  readonly #record: SessionRecord
  #device: UserAgentInfo | undefined

  static {
    recordOf = (session) => session.#record
  }

  constructor(record: SessionRecord) {
    this.#record = record
  }

  /** What `console.log` and `util.inspect` show: the JSON view, never a secret. */
  [INSPECT](): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`
  }

  /** `sess_` followed by 26 Crockford base32 characters. */
  get id(): string {
    return this.#record.id
  }
  /** The `sub` of the user the session belongs to. */
  get userId(): string {
    return this.#record.userId
  }
  get tenantId(): string {
    return this.#record.tenantId
  }
  /** How the session began: a bearer token on a request, or a login through `sessions().create()`. */
  get origin(): 'token' | 'login' {
    return this.#record.origin
  }
  get createdAt(): Date {
    return new Date(this.#record.createdAt)
  }
  /** When the session was last used, to within `sessions.touchInterval` (a use also slides `expiresAt`). */
  get lastSeenAt(): Date {
    return new Date(this.#record.lastSeenAt)
  }
  /** When the session ends unless used again (idle), never later than its absolute lifetime. */
  get expiresAt(): Date {
    return new Date(this.#record.expiresAt)
  }
  /** When the session ends whatever its use. */
  get absoluteExpiresAt(): Date {
    return new Date(this.#record.absoluteExpiresAt)
  }
  /**
   * Whether the session's cookie outlives the browser session ("remember me"), as chosen at `sessions().create()`.
   * True for sessions made from bearer tokens, which have no cookie.
   */
  get persistent(): boolean {
    return this.#record.persistent !== false
  }
  get revokedAt(): Date | null {
    return this.#record.revokedAt === null ? null : new Date(this.#record.revokedAt)
  }
  /** The verified claims of the credential that created the session. */
  get claims(): Claims {
    return this.#record.claims
  }
  /** Non-secret details recorded at creation: `userAgent` and `ip` when known, and what `create()` was given. */
  get meta(): Readonly<Record<string, string>> {
    return this.#record.meta
  }
  /** The client's IP address when the session was created (through trusted proxies only), or null. */
  get ip(): string | null {
    return this.#record.meta.ip ?? null
  }
  /** The `User-Agent` of the request that created the session (at most 256 characters), or null. */
  get userAgent(): string | null {
    return this.#record.meta.userAgent ?? null
  }
  /** The browser and major version, parsed from {@link Session.userAgent}, e.g. `Firefox 128`, or null. */
  get browser(): string | null {
    return this.#parsed().browser
  }
  /** The operating system, parsed from {@link Session.userAgent}, e.g. `Windows`, or null. */
  get os(): string | null {
    return this.#parsed().os
  }
  /** `desktop`, `mobile`, `tablet` or `bot`, parsed from {@link Session.userAgent}, or null. */
  get deviceType(): UserAgentInfo['deviceType'] {
    return this.#parsed().deviceType
  }

  #parsed(): UserAgentInfo {
    this.#device ??= parseUserAgent(this.#record.meta.userAgent)
    return this.#device
  }

  /** Whether the session is neither revoked nor expired at `now`. */
  isActive(now: number = Date.now()): boolean {
    return isRecordActive(this.#record, now)
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
      persistent: this.persistent,
      revokedAt: this.revokedAt?.toISOString() ?? null,
      active: this.isActive(),
      ip: this.ip,
      browser: this.browser,
      os: this.os,
      deviceType: this.deviceType,
      meta: this.meta,
    }
  }
}

/** A session just created by `sessions().create()`: it carries the cookie secret, shown only this once. */
export class CreatedSession extends Session {
  /** The opaque cookie secret (at least 128 bits, base64url); only its hash is stored. */
  declare readonly secret: string
  /** The `Set-Cookie` header value that starts this session in a browser. */
  declare readonly setCookie: string

  constructor(record: SessionRecord, secret: string, setCookie: string) {
    super(record)
    // Not enumerable: spreading, `Object.entries` or a logger walking the object never meets them.
    Object.defineProperty(this, 'secret', { value: secret, enumerable: false })
    Object.defineProperty(this, 'setCookie', { value: setCookie, enumerable: false })
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
