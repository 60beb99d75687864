import type { ClientHints } from './client-device.ts'
import type { CreateSessionOptions } from './engine.ts'
import type { CoreSDKErrorCode } from './errors.ts'
import type { EventActor } from './events.ts'
import type {
  AuthDecision,
  Claims,
  RevocationEvent,
  SessionRecord,
  SessionTokens,
  TokenSet,
} from './types.ts'
import type { VerifiedToken } from './verify-token.ts'

/** A bearer token on its way to a backend; `verified` is set when this process checked it first (local backend). */
export interface BearerCredential {
  token: string
  verified: VerifiedToken | null
  /** Where the request came from: read only when it creates a session. */
  hints: ClientHints
}

/** A backend's answer for one credential. Unreachable backends reject instead (`store_unavailable`, `sidecar_unavailable`). */
export type BackendAnswer =
  | { ok: true; user: Claims; record: SessionRecord | null; degraded: boolean }
  | {
      ok: false
      code: CoreSDKErrorCode
      /** The session the credential maps to, when known (a revoked one is remembered). */
      record: SessionRecord | null
      /** Whether the answer clears the session cookie. */
      clearCookie: boolean
    }

/** A session just created, with its one-time secret and cookie. */
export interface CreatedRecord {
  record: SessionRecord
  secret: string
  setCookie: string
}

/**
 * Where the rules meet state: sessions in a {@link SessionStore} of this process, or in a sidecar over HTTP.
 * The pipeline (`CoreSDKClient`) does everything else once: credential parsing, argument checks, the fail mode,
 * the revocation memory and problems. A backend rejects with `store_unavailable` or `sidecar_unavailable` only
 * when it cannot be reached; any other rejection fails closed.
 */
export interface Backend {
  /** Whether tokens are verified in this process before the backend sees them. */
  readonly verifiesLocally: boolean
  authorize(token: string): Promise<AuthDecision>
  bearer(credential: BearerCredential): Promise<BackendAnswer>
  /**
   * What {@link Backend.bearer} would answer for an already-verified token, when it can tell without waiting (its
   * session held in this process); undefined when only `bearer` can. Optional.
   */
  bearerNow?(verified: VerifiedToken, now: number): BackendAnswer | undefined
  cookie(id: string, secret: string): Promise<BackendAnswer>
  /** `verified` is the token set's verified ID (else access) token when {@link verifiesLocally}. */
  create(
    tokenSet: TokenSet,
    verified: VerifiedToken | null,
    options: CreateSessionOptions,
  ): Promise<CreatedRecord>
  get(id: string): Promise<SessionRecord | null>
  refresh(id: string): Promise<SessionRecord>
  /** The backends emit the lifecycle events of the changes they make (the sidecar's, as its answers report them). */
  revoke(id: string, actor: EventActor): Promise<SessionRecord | null>
  revokeAll(userId: string, actor: EventActor): Promise<{ revoked: number; at: number }>
  /** Revokes the user's sessions but `keepId` (checked to be theirs); resolves the ids it revoked. */
  revokeOthers(userId: string, keepId: string, actor: EventActor): Promise<string[]>
  list(userId: string, includeInactive: boolean): Promise<SessionRecord[]>
  tokens(id: string): Promise<SessionTokens | null>
  /**
   * Rejects with why a degraded request's logout cannot be written: `store_unavailable`, or `sidecar_unavailable`
   * when the sidecar itself is away. Never resolves.
   */
  degradedLogout(): Promise<never>
  /** The session bound to the key `sid:<sid>`, or null. */
  providerSession(sid: string): Promise<SessionRecord | null>
  /** Claims a one-time key until `expiresAt`: true the first time, false while an earlier claim holds. */
  claimOnce(key: string, expiresAt: number): Promise<boolean>
  /** Revocations made on other instances, when the backend hears of them. */
  onRevocation(listener: (event: RevocationEvent) => void): (() => void) | undefined
  close(): Promise<void>
}
