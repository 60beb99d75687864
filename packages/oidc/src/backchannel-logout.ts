import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose'

/** The `events` member that marks a back-channel logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/**
 * Remembers the `jti` of logout tokens already accepted, so a replayed token is refused. The default is the CoreSDK
 * client's `sessions().claimOnce()`: atomic in the session store, for every instance sharing it.
 */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAt` (ms since the epoch). Resolves false when it was already recorded (a replay).
   * Shared by every instance when tokens can reach any of them.
   */
  add(key: string, expiresAt: number): Promise<boolean>
  /** Forgets `key` (the logout it carried could not be applied, so the provider may retry), where the cache can. */
  delete?(key: string): Promise<void>
}

/** A replay cache in this process's memory, bounded: for a single instance (the default shares the store). */
export function createMemoryReplayCache(maxEntries = 10_000): Required<ReplayCache> {
  const entries = new Map<string, number>()
  return {
    async add(key, expiresAt) {
      const now = Date.now()
      const known = entries.get(key)
      if (known !== undefined && known > now) return false
      if (entries.size >= maxEntries) {
        for (const [k, until] of entries) if (until <= now) entries.delete(k)
        // Still full of live entries: drop the oldest, which expire first.
        while (entries.size >= maxEntries) {
          const oldest = entries.keys().next().value
          if (oldest === undefined) break
          entries.delete(oldest)
        }
      }
      entries.set(key, expiresAt)
      return true
    },
    async delete(key) {
      entries.delete(key)
    },
  }
}

/** The claims of a verified logout token that say whom to log out. */
export interface LogoutTokenClaims {
  iss: string
  sub: string | undefined
  sid: string | undefined
  jti: string
  /** Until when the token could be accepted, in ms since the epoch: how long its `jti` must be remembered. */
  expiresAt: number
}

/** Why a logout token was refused: a fixed description, safe to answer with. */
export class LogoutTokenError extends Error {
  override readonly name = 'LogoutTokenError'
}

/** What {@link verifyLogoutToken} checks against. */
export interface VerifyLogoutTokenOptions {
  issuer: string
  clientId: string
  keys: JWTVerifyGetKey
  algorithms: string[]
  /** Seconds of clock skew allowed, on `exp` and on both sides of the `iat` window. */
  clockTolerance: number
  /** The oldest `iat` accepted, in seconds before now. */
  maxAge: number
}

/** The largest logout token read, in bytes: checked before any parsing. */
export const MAX_LOGOUT_TOKEN_BYTES = 16_384

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

function refuse(description: string): never {
  throw new LogoutTokenError(description)
}

/** An optional string claim: absent, or a non-empty string. */
function optionalString(payload: JWTPayload, name: 'sub' | 'sid'): string | undefined {
  const value = payload[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') refuse(`The logout token's ${name} is not a string.`)
  return value
}

/**
 * Verifies a logout token per OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6: the signature, `iss`, `aud`,
 * a `typ` of `logout+jwt` when there is one, a required `exp`, an `iat` within `maxAge` in the past and
 * `clockTolerance` in the future, a `jti`, `events` holding the back-channel logout member (an object), no
 * `nonce`, and a `sid` and/or a `sub`. Throws a {@link LogoutTokenError} whose description never contains a claim
 * value.
 */
export async function verifyLogoutToken(
  token: string,
  options: VerifyLogoutTokenOptions,
): Promise<LogoutTokenClaims> {
  if (token.length > MAX_LOGOUT_TOKEN_BYTES) refuse('The logout token is too large.')
  let payload: JWTPayload
  let typ: unknown
  try {
    ;({
      payload,
      protectedHeader: { typ },
    } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.clientId,
      algorithms: options.algorithms,
      clockTolerance: options.clockTolerance,
      requiredClaims: ['iat', 'exp', 'jti'],
    }))
  } catch (error) {
    throw new LogoutTokenError('The logout token is invalid.', { cause: error })
  }
  // §2.4: explicit typing keeps another JWT of the provider (an ID token) from passing as a logout token.
  if (typ !== undefined && (typeof typ !== 'string' || !/^(?:application\/)?logout\+jwt$/i.test(typ)))
    refuse('The logout token has a typ other than logout+jwt.')
  const now = Math.floor(Date.now() / 1000)
  const { iat, exp } = payload as { iat: unknown; exp: unknown }
  if (typeof iat !== 'number' || typeof exp !== 'number') refuse('The logout token is invalid.')
  if (iat > now + options.clockTolerance) refuse('The logout token was issued in the future.')
  if (iat < now - options.maxAge - options.clockTolerance) refuse('The logout token is too old.')
  const events = payload.events
  if (!isObject(events) || !isObject(events[BACKCHANNEL_LOGOUT_EVENT]))
    refuse('The logout token carries no back-channel logout event.')
  if ('nonce' in payload) refuse('A logout token must not carry a nonce.')
  const sub = optionalString(payload, 'sub')
  const sid = optionalString(payload, 'sid')
  if (sub === undefined && sid === undefined) refuse('The logout token names neither sub nor sid.')
  if (typeof payload.jti !== 'string' || payload.jti === '') refuse('The logout token has no jti.')
  // Accepted while neither exp nor the iat window has passed: the jti is remembered exactly that long.
  const until = Math.min(exp, iat + options.maxAge) + options.clockTolerance
  return { iss: payload.iss as string, sub, sid, jti: payload.jti, expiresAt: until * 1000 }
}
