import { isSessionId } from './crypto.ts'
import { CoreSDKError } from './errors.ts'
import { recordOf, type Session } from './session.ts'
import type { Claims, SessionRecord } from './types.ts'

/** The header that carries the sidecar's shared secret (the user's own credential travels in the JSON body). */
export const SIDECAR_KEY_HEADER = 'x-coresdk-sidecar-key'
/** The header naming the tenant the client serves; the sidecar refuses it (403) when the key is not that tenant's. */
export const SIDECAR_TENANT_HEADER = 'x-coresdk-tenant'

/**
 * The header naming who asks for a revocation (`user`, `admin`, `idp`, `service`, `system`), as the sidecar's lifecycle
 * events report it; without it, `service`.
 */
export const SIDECAR_ACTOR_HEADER = 'x-coresdk-actor'

/** One operation of the sidecar's HTTP API: its method and its path template (OpenAPI style, `{name}` is one segment). */
export interface SidecarRoute {
  method: 'GET' | 'POST' | 'DELETE'
  path: string
}

/** Every operation the sidecar serves, by name: its server registers exactly these, and `openapi.json` describes them. */
export const sidecarRoutes = {
  authorize: { method: 'POST', path: '/v1/authorize' },
  authenticate: { method: 'POST', path: '/v1/authenticate' },
  logout: { method: 'POST', path: '/v1/logout' },
  createSession: { method: 'POST', path: '/v1/sessions' },
  getSession: { method: 'GET', path: '/v1/sessions/{id}' },
  revokeSession: { method: 'DELETE', path: '/v1/sessions/{id}' },
  refresh: { method: 'POST', path: '/v1/sessions/{id}/refresh' },
  tokens: { method: 'GET', path: '/v1/sessions/{id}/tokens' },
  revokeAll: { method: 'POST', path: '/v1/users/{userId}/revoke-all' },
  revokeOthers: { method: 'POST', path: '/v1/users/{userId}/revoke-others' },
  userSessions: { method: 'GET', path: '/v1/users/{userId}/sessions' },
  providerSession: { method: 'GET', path: '/v1/provider-sessions/{sid}' },
  claimOnce: { method: 'POST', path: '/v1/claim-once' },
} as const satisfies Record<string, SidecarRoute>

/** A template with its one `{name}` segment filled, percent-encoded. */
function fill(template: string, value: string): string {
  return template.replace(/\{\w+\}/, () => encodeURIComponent(value))
}

/** The sidecar's HTTP paths, shared by its server, core's sidecar backend and the `coresdk` CLI. */
export const sidecarPaths = {
  authorize: sidecarRoutes.authorize.path,
  authenticate: sidecarRoutes.authenticate.path,
  logout: sidecarRoutes.logout.path,
  sessions: sidecarRoutes.createSession.path,
  session: (id: string) => fill(sidecarRoutes.getSession.path, id),
  refresh: (id: string) => fill(sidecarRoutes.refresh.path, id),
  tokens: (id: string) => fill(sidecarRoutes.tokens.path, id),
  revokeAll: (userId: string) => fill(sidecarRoutes.revokeAll.path, userId),
  revokeOthers: (userId: string) => fill(sidecarRoutes.revokeOthers.path, userId),
  userSessions: (userId: string) => fill(sidecarRoutes.userSessions.path, userId),
  providerSession: (sid: string) => fill(sidecarRoutes.providerSession.path, sid),
  claimOnce: sidecarRoutes.claimOnce.path,
} as const

/** A session on the wire: `Session.toJSON()` plus what a client needs to enforce revocations (no secret). */
export interface WireSession {
  id: string
  userId: string
  tenantId: string
  origin: 'token' | 'login'
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  absoluteExpiresAt: string
  /** The cookie's kind, chosen at creation: persistent (`Max-Age`) or for the browser session only. */
  persistent: boolean
  revokedAt: string | null
  active: boolean
  /** The client's IP address at creation, or null (see `Session.ip`). */
  ip: string | null
  /** Parsed from `meta.userAgent` (see `Session.browser`, `os`, `deviceType`). */
  browser: string | null
  os: string | null
  deviceType: 'desktop' | 'mobile' | 'tablet' | 'bot' | null
  /** The credential key the session is bound to (`sid:…`, `jti:…`, `tok:<hash>`), or null. */
  key: string | null
  /** When the credential behind the session was issued, ms since the epoch (see `SessionRecord.issuedAt`). */
  issuedAt: number
  claims: Claims
  meta: Record<string, string>
}

/** Encodes a session for the wire. */
export function sessionToWire(session: Session): WireSession {
  const record = recordOf(session)
  return {
    ...(session.toJSON() as Omit<WireSession, 'absoluteExpiresAt' | 'key' | 'issuedAt' | 'claims'>),
    absoluteExpiresAt: session.absoluteExpiresAt.toISOString(),
    key: record.key,
    issuedAt: record.issuedAt,
    claims: record.claims,
  }
}

/** The error for an answer this client cannot read. */
export function unreadable(): CoreSDKError {
  return new CoreSDKError('sidecar_unavailable', 'The sidecar sent an answer this client cannot read.')
}

function time(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw unreadable()
  return ms
}

/** Decodes a wire session into the record behind it; the secret parts (hash, tokens) never leave the sidecar. */
export function recordFromWire(value: unknown): SessionRecord {
  const wire = value as WireSession
  if (wire === null || typeof wire !== 'object' || !isSessionId(wire.id) || typeof wire.userId !== 'string')
    throw unreadable()
  const createdAt = time(wire.createdAt)
  const absoluteExpiresAt = time(wire.absoluteExpiresAt)
  return {
    id: wire.id,
    tenantId: String(wire.tenantId),
    userId: wire.userId,
    key: typeof wire.key === 'string' ? wire.key : null,
    origin: wire.origin === 'login' ? 'login' : 'token',
    createdAt,
    issuedAt: typeof wire.issuedAt === 'number' ? wire.issuedAt : 0,
    lastSeenAt: time(wire.lastSeenAt),
    expiresAt: time(wire.expiresAt),
    absoluteExpiresAt,
    persistent: wire.persistent !== false,
    revokedAt: wire.revokedAt === null ? null : time(wire.revokedAt),
    retainUntil: absoluteExpiresAt,
    claims: (wire.claims ?? { sub: wire.userId }) as Claims,
    secretHash: null,
    tokens: null,
    meta: wire.meta && typeof wire.meta === 'object' ? wire.meta : {},
  }
}
