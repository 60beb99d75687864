import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose'

/** The `events` member that marks a back-channel logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** Remembers the `jti` of logout tokens already accepted, so a replayed token is refused. */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAt` (ms since the epoch). Resolves false when it was already recorded (a replay).
   * Shared by every instance when tokens can reach any of them.
   */
  add(key: string, expiresAt: number): Promise<boolean>
  /** Forgets `key` (the logout it carried could not be applied, so the provider may retry). */
  delete(key: string): Promise<void>
}

/** A replay cache in this process's memory, bounded in size. */
export function createMemoryReplayCache(maxEntries = 10_000): ReplayCache {
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
  /** When the token stops being accepted, in ms since the epoch (for the replay cache). */
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
  /** Seconds of clock skew allowed. */
  clockTolerance: number
  /** The oldest `iat` accepted, in seconds. */
  maxAge: number
}

/**
 * Verifies a logout token per OpenID Connect Back-Channel Logout 1.0 §2.6: signature, `iss`, `aud`, `iat`,
 * `exp` when present, `jti`, the logout event, no `nonce`, and `sid` and/or `sub`.
 * Throws a {@link LogoutTokenError} with a description that never contains a claim value.
 */
export async function verifyLogoutToken(
  token: string,
  options: VerifyLogoutTokenOptions,
): Promise<LogoutTokenClaims> {
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.clientId,
      algorithms: options.algorithms,
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxAge,
      requiredClaims: ['iat', 'jti'],
    }))
  } catch (error) {
    throw new LogoutTokenError('The logout token is invalid.', { cause: error })
  }
  const events = payload.events
  if (
    events === null ||
    typeof events !== 'object' ||
    Array.isArray(events) ||
    typeof (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] !== 'object' ||
    (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] === null
  ) {
    throw new LogoutTokenError('The logout token carries no back-channel logout event.')
  }
  if ('nonce' in payload) throw new LogoutTokenError('A logout token must not carry a nonce.')
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined
  const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined
  if (sub === undefined && sid === undefined)
    throw new LogoutTokenError('The logout token names neither sub nor sid.')
  if (typeof payload.jti !== 'string' || payload.jti === '')
    throw new LogoutTokenError('The logout token has no jti.')
  const iat = payload.iat as number
  const until =
    Math.max(typeof payload.exp === 'number' ? payload.exp : 0, iat + options.maxAge) + options.clockTolerance
  return { iss: payload.iss as string, sub, sid, jti: payload.jti, expiresAt: until * 1000 }
}
