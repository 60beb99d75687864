/**
 * The verified claims of a token, as put on the request as `coresdk_user`.
 *
 * Augment {@link CoreSdkUserClaims} to type your own claims:
 * @example
 * declare module '@coresdk/core' {
 *   interface CoreSdkUserClaims { roles?: string[] }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: an interface users augment with their own claims
export interface CoreSdkUserClaims {}

/** The registered claims CoreSDK relies on, plus anything else the token carries. */
export type Claims = {
  sub: string
  iss?: string
  aud?: string | string[]
  exp?: number
  iat?: number
  nbf?: number
  jti?: string
  sid?: string
  email?: string
  [claim: string]: unknown
} & CoreSdkUserClaims

/** Why a token was refused. `key_source_unavailable` means the keys could not be fetched: it maps to 503, not 401. */
export type AuthReason =
  | 'missing_token'
  | 'token_too_large'
  | 'malformed'
  | 'unsupported_algorithm'
  | 'invalid_signature'
  | 'unknown_key'
  | 'invalid_claims'
  | 'expired'
  | 'not_yet_valid'
  | 'key_source_unavailable'
  | 'revoked'

/** An RFC 9457 problem details body, with CoreSDK's machine-readable `code`. */
export interface ProblemBody {
  /** A URI naming the problem type. */
  type: string
  /** A short, fixed summary of the problem type. */
  title: string
  /** The HTTP status code. */
  status: number
  /** A human-readable explanation that never contains a token, a claim value or a library's error text. */
  detail: string
  /** CoreSDK's machine-readable code (`invalid_token`, `token_expired`, `store_unavailable`, …). */
  code: string
}

/** An HTTP answer an adapter writes as it is: status, headers (content type included) and a problem body. */
export interface HttpProblem {
  status: number
  headers: Record<string, string>
  body: ProblemBody
}

/** The outcome of `sdk.auth().authorize()`. A bad token never throws: it gives `allowed: false` with a reason. */
export type AuthDecision =
  | { allowed: true; claims: Claims; reason: null; problem: null }
  | { allowed: false; claims: null; reason: AuthReason; problem: HttpProblem }

/** The OAuth 2.0 token-endpoint response, as openid-client returns it. */
export interface TokenSet {
  access_token?: string
  id_token?: string
  refresh_token?: string
  expires_in?: number
  token_type?: string
  scope?: string
  [field: string]: unknown
}

/** The OAuth tokens a session holds; the refresh token is stored only encrypted. */
export interface SessionTokens {
  accessToken?: string
  idToken?: string
  refreshToken?: string
  /** When the access token expires, in milliseconds since the epoch. */
  accessTokenExpiresAt?: number
  scope?: string
  tokenType?: string
}

/**
 * What a {@link SessionStore} keeps for one session. Times are milliseconds since the epoch.
 * Stores treat it as opaque data apart from the fields their operations name.
 */
export interface SessionRecord {
  /** `sess_` followed by 26 Crockford base32 characters, time-ordered. */
  id: string
  tenantId: string
  userId: string
  /** The credential key this session is bound to (`sid:…`, `jti:…` or `tok:…`), if any. */
  key: string | null
  /** How the session began: a bearer token seen on a request, or an explicit login (`sessions().create()`). */
  origin: 'token' | 'login'
  createdAt: number
  /** When the credential behind the session was issued: the token's `iat`, or `createdAt` for a login. */
  issuedAt: number
  lastSeenAt: number
  /** Sliding expiry: `lastSeenAt` + idle timeout, capped at `absoluteExpiresAt`. */
  expiresAt: number
  absoluteExpiresAt: number
  /**
   * Whether the session's cookie is persistent (`Max-Age` up to `absoluteExpiresAt`) or lasts the browser session
   * (no `Max-Age`): the choice made at `sessions().create()`. Absent on records written before the choice existed,
   * which are persistent.
   */
  persistent?: boolean
  revokedAt: number | null
  /** Until when the store must keep the record (a revoked session must outlive every token that maps to it). */
  retainUntil: number
  claims: Claims
  /** SHA-256 (base64url) of the cookie secret; the secret itself is never stored. */
  secretHash: string | null
  /** The OAuth token set, encrypted (AES-GCM, base64url), or null. */
  tokens: string | null
  /** Free-form, non-secret details such as the user agent. */
  meta: Record<string, string>
}

/** The fields of a session that `update` may change. */
export type SessionPatch = Partial<
  Pick<SessionRecord, 'lastSeenAt' | 'expiresAt' | 'secretHash' | 'tokens' | 'claims' | 'retainUntil'>
>

/** A revocation made on any instance, as a store reports it. */
export type RevocationEvent =
  | { kind: 'session'; tenantId: string; sessionId: string; key: string | null; userId: string; at: number }
  | { kind: 'user'; tenantId: string; userId: string; at: number }

/** The per-user bound a store enforces at `create`: one setting serves the work bound and the session cap. */
export interface SessionLimits {
  /** The most active (unrevoked, unexpired) sessions one user holds. */
  maxPerUser: number
  /**
   * At the bound: `revoke_oldest` revokes the user's oldest active session (reported through `onRevocation` like
   * any revocation) and stores the new one; `refuse` rejects with a `CoreSDKError` of code `session_limit`.
   */
  atCap: 'revoke_oldest' | 'refuse'
}

/**
 * Where sessions live. CoreSDK puts a deadline on each call and applies `failMode`. Every implementation passes
 * `describeSessionStore` from `@coresdk/testing`.
 *
 * Errors decide the fail mode, so they must be classified: reject with a `CoreSDKError` of code
 * `store_unavailable` only when the store cannot be reached (connection refused or reset, a timeout, the cluster
 * down); any other rejection (a script error, a value the store cannot encode, a bug) fails closed with
 * `internal_error` whatever `failMode` says. Every string that reaches a key (tenant, user, id, credential key) may
 * hold any UTF-16 content, lone surrogates and NUL included, and must be encoded so that it cannot throw.
 */
export interface SessionStore {
  /** The session with this id, or null. Expired records may be returned; callers check times. */
  get(tenantId: string, id: string): Promise<SessionRecord | null>
  /** The session bound to a credential key, or null. */
  getByKey(tenantId: string, key: string): Promise<SessionRecord | null>
  /**
   * What {@link SessionStore.getByKey} would answer, when this process holds it already (the store itself in memory,
   * or a cache the store keeps coherent with its revocation events), without a round trip; undefined when only
   * `getByKey` can tell. Optional: with it, a warm request is answered without waiting on a promise. `now` is the
   * caller's clock reading (ms) for this request, when it has one.
   */
  peekByKey?(tenantId: string, key: string, now?: number): SessionRecord | undefined
  /**
   * Atomically: when `record.key` is already bound to a live record (unexpired, or revoked and still retained),
   * returns that one (`created: false`);
   * otherwise stores the record, binds its key and adds it to the user's index. When the user's revoke-all
   * marker is at or after `record.issuedAt`, the record is stored already revoked. When `limits` is given, the
   * user's active sessions never exceed `limits.maxPerUser` (atomically, against concurrent creates); `revoked` then
   * names the sessions the cap revoked (`revoke_oldest`), so that CoreSDK reports each once.
   */
  create(
    tenantId: string,
    record: SessionRecord,
    limits?: SessionLimits,
  ): Promise<{ record: SessionRecord; created: boolean; revoked?: string[] }>
  /** Changes the mutable fields; returns the new record, or null when absent. Never clears `revokedAt`. */
  update(tenantId: string, id: string, patch: SessionPatch): Promise<SessionRecord | null>
  /** Marks one session revoked (idempotent: the first `revokedAt` stays); returns it, or null when absent. */
  revoke(tenantId: string, id: string, at: number): Promise<SessionRecord | null>
  /**
   * Sets the user's revoke-all marker to `at` (kept for `retainFor` ms) and revokes every session in the user's index,
   * including one created concurrently. Returns the ids it revoked.
   */
  revokeAllForUser(tenantId: string, userId: string, at: number, retainFor: number): Promise<string[]>
  /**
   * Revokes, at `at`, every session in the user's index but `keepId`, atomically against a concurrent create: no
   * session the user's index held when the call began, or gained before it returned, stays active apart from
   * `keepId`. Each revocation is reported through `onRevocation`; no revoke-all marker is set. Returns the ids it
   * revoked. Optional: without it CoreSDK lists the user's sessions and revokes them one by one, and a session
   * created meanwhile may stay active.
   */
  revokeOthersForUser?(tenantId: string, userId: string, keepId: string, at: number): Promise<string[]>
  /** The user's revoke-all marker, or null. */
  getUserRevokedAt(tenantId: string, userId: string): Promise<number | null>
  /** The user's sessions (revoked ones included, expired ones may be pruned). */
  listForUser(tenantId: string, userId: string): Promise<SessionRecord[]>
  /** Subscribes to revocations made through any instance sharing this store. Returns an unsubscribe function. */
  onRevocation?(listener: (event: RevocationEvent) => void): () => void
  /** Releases timers and connections. */
  close?(): Promise<void>
  /**
   * Atomically records a one-time `key` of the tenant (such as a logout token's `jti`) until `expiresAt` (ms since the
   * epoch), for every instance sharing the store: resolves true for the first claim, false while an earlier claim
   * holds. A key whose `expiresAt` has passed is not recorded (true). Optional: without it, CoreSDK remembers one-time
   * keys in each process only.
   */
  claimOnce?(tenantId: string, key: string, expiresAt: number): Promise<boolean>
  /**
   * Tries to take the session's refresh lock for `ttl` ms, for every instance sharing the store, and reads the
   * session as stored now (past any cache) in the same step. When the lock is free (never taken, released, or its
   * lease past), it is taken and `fence` is a fencing token greater than every earlier one of this session; while
   * another lease runs, `fence` is null. A session that is absent gives `{ record: null, fence: null }`.
   *
   * Optional, with {@link SessionStore.releaseRefreshLock}: a store with both lets one instance at a time refresh a
   * session while the others wait for its result; without them, CoreSDK allows one refresh per session per process.
   */
  acquireRefreshLock?(tenantId: string, id: string, ttl: number): Promise<RefreshLockAnswer>
  /**
   * Ends a refresh that holds `fence`. With `patch`, writes it (as {@link SessionStore.update} would) unless a
   * refresh with a greater fence has already written its own: a holder whose lease ran out never overwrites a newer
   * rotation. Then releases the lock when `fence` still holds it (never another holder's). Answers the session as
   * stored after the call, read past any cache, and whether the patch was written.
   */
  releaseRefreshLock?(
    tenantId: string,
    id: string,
    fence: number,
    patch?: SessionPatch,
  ): Promise<RefreshReleaseAnswer>
}

/** What {@link SessionStore.acquireRefreshLock} answers. */
export interface RefreshLockAnswer {
  /** The session as stored now, or null when absent. */
  record: SessionRecord | null
  /** The fencing token when this call took the lock; null while another holder's lease runs (or no session). */
  fence: number | null
}

/** What {@link SessionStore.releaseRefreshLock} answers. */
export interface RefreshReleaseAnswer {
  /** The session as stored after the call, or null when absent. */
  record: SessionRecord | null
  /** Whether the patch was written: false without one, when a newer refresh wrote first, or when absent. */
  written: boolean
}

/** Turns a refresh token into a new token set (the OIDC package supplies one). */
export interface TokenRefresher {
  /**
   * Exchanges the refresh token. Throw a `CoreSDKError` with code `refresh_token_invalid` when the provider answers
   * `invalid_grant`: the session is then revoked, unless its stored refresh token changed meanwhile (another
   * instance rotated it first), in which case the refresh answers the session as that rotation left it.
   */
  refresh(refreshToken: string, session: SessionRecord): Promise<TokenSet>
}
