import { base64url, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose'
import { BoundedMap } from './bounded-map.ts'
import type { ResolvedConfig } from './config.ts'
import { isIdentifier } from './crypto.ts'
import { type ProblemOptions, problemForReason } from './errors.ts'
import {
  CompositeKeySource,
  type KeyHint,
  KeyLookupError,
  type KeySource,
  RemoteKeySource,
  SecretKeySource,
  StaticKeySource,
} from './key-source.ts'
import type { Telemetry } from './telemetry.ts'
import type { AuthDecision, AuthReason, Claims } from './types.ts'

/** A token that passed every check. */
export interface VerifiedToken {
  /** The verified payload. */
  claims: Claims
  /**
   * The session key: `sid:<sid>` if a sid claim, else `jti:<jti>`; null when the token names neither, and then
   * {@link sessionKey} computes `tok:<base64url SHA-256 of the whole token>` on first need.
   */
  key: string | null
  /** When the token expires (`exp`), in milliseconds since the epoch. */
  expiresAt: number
  /**
   * The earliest time this server may take the token to have been issued, in ms since the epoch: its `iat` (else
   * `nbf`) less the clock tolerance, since the issuer's clock may run that far ahead of ours. 0 when it says neither.
   * Revoke-all cutoffs are compared with it, so no token issued before a revoke-all can pass as issued after it.
   */
  issuedAt: number
}

/** The outcome of {@link TokenVerifier.verify}: the verified token, or why it was refused. */
export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; reason: AuthReason }

/** Options of {@link TokenVerifier.verify}. */
export interface VerifyOptions {
  /**
   * `id_token` checks the audience against `jwt.idTokenAudience` (else `jwt.audience`) and skips `requiredType`.
   * @default 'access_token'
   */
  kind?: 'access_token' | 'id_token'
}

type JwtConfig = ResolvedConfig['jwt']

const encoder = new TextEncoder()
const NO_KEYS: CryptoKey[] = []

function refused(reason: AuthReason): VerifyResult {
  return { ok: false, reason }
}

function tooLarge(token: string, maxBytes: number): boolean {
  if (token.length > maxBytes) return true
  // Only a token with multi-byte characters can have more bytes than characters; count them only when it matters.
  return token.length * 3 > maxBytes && encoder.encode(token).byteLength > maxBytes
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
}

/** Maps a jose error (by its `code`) or a key lookup failure to the reason a token is refused. */
export function reasonForError(error: unknown): AuthReason {
  if (error instanceof KeyLookupError) return error.reason
  switch (errorCode(error)) {
    case 'ERR_JWT_EXPIRED':
      return 'expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const { claim, reason } = error as { claim?: string; reason?: string }
      return claim === 'nbf' && reason === 'check_failed' ? 'not_yet_valid' : 'invalid_claims'
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'unsupported_algorithm'
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'malformed'
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown_key'
    default:
      // A signature failure, or anything unexpected from the crypto layer: refuse without saying more.
      return 'invalid_signature'
  }
}

function createKeySource(jwt: JwtConfig, telemetry: Telemetry | null): KeySource {
  if (jwt.algorithms.some((alg) => alg.startsWith('HS'))) {
    return jwt.secret ? new SecretKeySource(jwt.secret) : new StaticKeySource([])
  }
  const sources: KeySource[] = []
  if (jwt.publicKeys.length > 0) sources.push(new StaticKeySource(jwt.publicKeys))
  if (jwt.jwksUri !== undefined) {
    sources.push(
      new RemoteKeySource(jwt.jwksUri, {
        maxAge: jwt.jwksCacheMaxAge,
        cooldown: jwt.jwksCooldown,
        timeout: jwt.jwksTimeout,
        around: telemetry === null ? undefined : (fetch) => telemetry.jwksFetch(fetch),
      }),
    )
  }
  if (sources.length === 1) return sources[0]!
  return new CompositeKeySource(sources)
}

function joseOptions(jwt: JwtConfig, kind: 'access_token' | 'id_token'): JWTVerifyOptions {
  const audience = kind === 'id_token' && jwt.idTokenAudience.length > 0 ? jwt.idTokenAudience : jwt.audience
  const options: JWTVerifyOptions = {
    // The allowlist always reaches jose: `none`, or any algorithm not configured, is refused before a key is chosen.
    algorithms: [...jwt.algorithms],
    issuer: jwt.issuer.length === 1 ? jwt.issuer[0] : [...jwt.issuer],
    audience: audience.length === 1 ? audience[0] : [...audience],
    clockTolerance: jwt.clockTolerance,
    requiredClaims: ['exp'],
  }
  if (kind === 'access_token' && jwt.requiredType !== undefined) options.typ = jwt.requiredType
  return options
}

/** Freezes verified claims: a cached result is shared by every request carrying the same token. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) if (typeof child === 'object') deepFreeze(child)
  }
  return value
}

/** See {@link VerifiedToken.issuedAt}. */
export function issuedAtOf(claims: { iat?: unknown; nbf?: unknown }, clockTolerance: number): number {
  const at = typeof claims.iat === 'number' ? claims.iat : typeof claims.nbf === 'number' ? claims.nbf : null
  return at === null ? 0 : Math.max(0, (at - clockTolerance) * 1000)
}

function claimKey(claims: JWTPayload): string | undefined {
  if (typeof claims.sid === 'string' && claims.sid !== '') return `sid:${claims.sid}`
  if (typeof claims.jti === 'string' && claims.jti !== '') return `jti:${claims.jti}`
  return undefined
}

/**
 * The canonical spelling of a compact JWS: jose accepts several encodings of one signature (`=` padding, other
 * unused low bits in the last base64url character), so the signature segment is decoded and encoded again. The
 * header and payload need no such care: they are signed as written, so another spelling fails verification.
 */
export function canonicalToken(token: string): string {
  const dot = token.lastIndexOf('.')
  const signature = base64url.decode(token.slice(dot + 1).replace(/=+$/, ''))
  return `${token.slice(0, dot + 1)}${base64url.encode(signature)}`
}

/**
 * The session key of a verified token. A token that names no session is keyed by the SHA-256 of its canonical
 * spelling ({@link canonicalToken}), computed once (the verified result, and so the key, is shared through the
 * verify cache) and only where sessions need it.
 */
export async function sessionKey(token: string, verified: VerifiedToken): Promise<string> {
  if (verified.key !== null) return verified.key
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(canonicalToken(token)))
  verified.key = `tok:${base64url.encode(new Uint8Array(digest))}`
  return verified.key
}

/** Whether an identifier claim is absent (when allowed), or a non-empty well-formed string. */
function isIdentifierClaim(value: unknown, required: boolean): boolean {
  return value === undefined ? !required : isIdentifier(value)
}

/**
 * Verifies JWTs against the configured keys and rules, built on jose: the algorithm allowlist, exact `iss` and
 * `aud`, a required `exp`, `nbf`, one clock tolerance, a size cap checked before parsing, optional `typ` and
 * tenant claim. Keys come from an HMAC secret, configured public keys, or a remote JWK Set; `jku`, `jwk`, `x5u`
 * and `x5c` headers are never followed. Successful verifications are cached by the whole token until its `exp`.
 * @example
 * const verifier = new TokenVerifier(resolveConfig(config).jwt, 'acme')
 * const result = await verifier.verify(token)
 * if (!result.ok) return problemForReason(result.reason)
 */
export class TokenVerifier {
  readonly #jwt: JwtConfig
  readonly #tenantId: string
  readonly #keys: KeySource
  readonly #cache: BoundedMap<string, Cached>
  readonly #accessOptions: JWTVerifyOptions
  readonly #idOptions: JWTVerifyOptions
  // The allowlist's algorithm when it names one: a key known before the header is read can go to jose as it is.
  readonly #onlyAlg: string | undefined
  // Verify-cache hits and misses, counted only when telemetry is on.
  readonly #counts: { hits: number; misses: number } | null

  /** Builds the key source; no key is fetched or imported until the first token arrives. */
  constructor(jwt: JwtConfig, tenantId: string, telemetry: Telemetry | null = null) {
    this.#jwt = jwt
    this.#tenantId = tenantId
    this.#counts = telemetry === null ? null : telemetry.cache
    this.#keys = createKeySource(jwt, telemetry)
    this.#cache = new BoundedMap(jwt.cacheSize)
    this.#accessOptions = joseOptions(jwt, 'access_token')
    this.#idOptions = joseOptions(jwt, 'id_token')
    this.#onlyAlg = jwt.algorithms.length === 1 ? jwt.algorithms[0] : undefined
  }

  /** Verifies a token. Never throws or rejects: a refused token resolves `{ ok: false, reason }`. */
  verify(token: string, options?: VerifyOptions): Promise<VerifyResult> {
    const kind = options?.kind === 'id_token' ? 'id_token' : 'access_token'
    if (kind === 'access_token' && typeof token === 'string') {
      // The warm path: one Map lookup and one clock read; the entry holds an already-settled promise.
      const hit = this.#cache.get(cacheKey(token), Date.now())
      if (hit !== undefined && hit.raw === token) {
        if (this.#counts !== null) this.#counts.hits++
        return hit.promise
      }
      if (this.#counts !== null) this.#counts.misses++
    }
    return this.#verifyCold(token, kind)
  }

  /**
   * The verified access token when the verify cache holds it (a token seen before and not yet expired), without a
   * promise; undefined otherwise, when {@link TokenVerifier.verify} must run.
   */
  peek(token: string, now: number): VerifiedToken | undefined {
    const hit = this.#cache.get(cacheKey(token), now)
    if (hit === undefined || hit.raw !== token) return undefined
    // A miss is counted by the `verify` that follows it.
    if (this.#counts !== null) this.#counts.hits++
    return hit.token
  }

  /** Stops any key fetch in flight and drops the cache. */
  close(): void {
    this.#keys.close()
    this.#cache.clear()
  }

  async #verifyCold(token: string, kind: 'access_token' | 'id_token'): Promise<VerifyResult> {
    if (typeof token !== 'string' || token === '') return refused('malformed')
    // The size cap comes before any parsing, so an oversized token costs nothing but this comparison.
    if (tooLarge(token, this.#jwt.maxTokenBytes)) return refused('token_too_large')
    try {
      const options = kind === 'id_token' ? this.#idOptions : this.#accessOptions
      const claims = await this.#verifySignatureAndClaims(token, options)
      if (
        !isIdentifierClaim(claims.sub, true) ||
        !isIdentifierClaim(claims.sid, false) ||
        !isIdentifierClaim(claims.jti, false)
      )
        return refused('invalid_claims')
      const now = Date.now()
      const tolerance = this.#jwt.clockTolerance * 1000
      // jose checks iat only against a maximum age: a token from the future is refused here, like any bad token.
      if (typeof claims.iat === 'number' && claims.iat * 1000 > now + tolerance)
        return refused('invalid_claims')
      const tenantClaim = this.#jwt.tenantClaim
      if (tenantClaim !== undefined && claims[tenantClaim] !== this.#tenantId)
        return refused('invalid_claims')
      const verified: VerifiedToken = {
        claims: deepFreeze(claims) as Claims,
        key: claimKey(claims) ?? null,
        expiresAt: (claims.exp as number) * 1000,
        issuedAt: issuedAtOf(claims, this.#jwt.clockTolerance),
      }
      const result: VerifyResult = { ok: true, token: verified }
      // The cache holds a settled promise, so that a hit returns it as it is, without allocating.
      if (kind === 'access_token' && verified.expiresAt > Date.now())
        this.#cache.set(
          cacheKey(token),
          { raw: token, token: verified, promise: Promise.resolve(result) },
          verified.expiresAt,
        )
      return result
    } catch (error) {
      return refused(reasonForError(error))
    }
  }

  async #verifySignatureAndClaims(token: string, options: JWTVerifyOptions): Promise<JWTPayload> {
    // jose checks the token's `alg` against the allowlist before it uses any key, so a key that every token of the
    // one allowed algorithm gets is passed as it is: no resolver call, no extra turn.
    const sole = this.#onlyAlg === undefined ? undefined : this.#keys.sole?.(this.#onlyAlg)
    if (sole !== undefined) return (await jwtVerify(token, sole, options)).payload
    let others = NO_KEYS
    const first = (keys: CryptoKey[]): CryptoKey => {
      if (keys.length > 1) others = keys.slice(1)
      return keys[0]!
    }
    const resolve = (header: KeyHint): CryptoKey | Promise<CryptoKey> => {
      // jose calls this only after the allowlist check, and passes the protected header: `jku`, `jwk`, `x5u`
      // and `x5c` are simply never read, so no key ever comes from the token itself.
      const keys = this.#keys.candidates({ alg: header.alg, kid: header.kid })
      return Array.isArray(keys) ? first(keys) : keys.then(first)
    }
    try {
      return (await jwtVerify(token, resolve, options)).payload
    } catch (error) {
      if (others.length === 0 || errorCode(error) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw error
    }
    // Several keys fit a token without a matching kid: try the others in turn.
    let last: unknown
    for (const key of others) {
      try {
        return (await jwtVerify(token, key, options)).payload
      } catch (error) {
        if (errorCode(error) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw error
        last = error
      }
    }
    throw last
  }
}

/**
 * The verify cache's key for a token: its last 24 characters, which lie in the signature (at least 144 bits of it).
 * Hashing a short key costs a fraction of hashing a whole token (hundreds of characters, a new string on every
 * request); the entry keeps the whole token, compared in full, so a token that only shares the key is a miss.
 */
function cacheKey(token: string): string {
  return token.length > 24 ? token.slice(-24) : token
}

/** A verify-cache entry: the token, its verification, and the settled promise {@link TokenVerifier.verify} returns. */
interface Cached {
  raw: string
  token: VerifiedToken
  promise: Promise<VerifyResult>
}

/** Phase 1's refusal for `reason`: no claims, and the reason's problem. */
export function deniedDecision(reason: AuthReason, options: ProblemOptions): AuthDecision {
  return { allowed: false, claims: null, reason, problem: problemForReason(reason, options) }
}

/** Phase 1 in this process: a bearer token verified into its claims, or refused (a missing one too) with its problem. */
export async function authorizeToken(
  verifier: TokenVerifier,
  token: string | null | undefined,
  options: ProblemOptions,
): Promise<AuthDecision> {
  if (typeof token !== 'string' || token === '') return deniedDecision('missing_token', options)
  const result = await verifier.verify(token)
  if (result.ok) return { allowed: true, claims: result.token.claims, reason: null, problem: null }
  return deniedDecision(result.reason, options)
}
