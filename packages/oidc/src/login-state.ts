import { CoreSDKError } from '@coresdk/core'
import { keyId } from '@coresdk/core/adapter'
import { decodeProtectedHeader, EncryptJWT, jwtDecrypt } from 'jose'

/** What the login-state cookie carries between `login()` and `callback()`. */
export interface LoginState {
  /** The `state` parameter sent to the provider. */
  state: string
  /** The `nonce` the ID token must carry. */
  nonce: string
  /** The PKCE code verifier. */
  codeVerifier: string
  /** Where to send the user after the callback (a local path). */
  returnTo: string
  /** The login's "remember me" choice, when it made one (`sessions().create()`'s `persistent`). */
  persistent?: boolean
}

/** One login-state key: derived from one cookie secret, and named by an id derived from the key, not the secret. */
export interface StateKey {
  id: string
  key: Uint8Array
}

const encoder = new TextEncoder()

/**
 * Derives the login-state keys from the configured cookie secret, or from a list of them, newest first (rotation):
 * each a 256-bit key (HKDF-SHA-256). A bad secret is named by its position, never shown.
 */
export async function deriveStateKeys(
  secrets: string | Uint8Array | ReadonlyArray<string | Uint8Array>,
): Promise<StateKey[]> {
  const list: ReadonlyArray<unknown> = Array.isArray(secrets) ? secrets : [secrets]
  if (list.length === 0) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK OIDC configuration: cookieSecret is invalid; it accepts a secret of at least 32 bytes, or a non-empty list of them.',
    )
  }
  return Promise.all(
    list.map(async (secret, i) => {
      const raw = typeof secret === 'string' ? encoder.encode(secret) : secret
      if (!(raw instanceof Uint8Array) || raw.byteLength < 32) {
        const setting = Array.isArray(secrets)
          ? `cookieSecret (secret ${i + 1} of ${list.length})`
          : 'cookieSecret'
        throw new CoreSDKError(
          'invalid_config',
          `CoreSDK OIDC configuration: ${setting} is invalid; it accepts at least 32 bytes.`,
        )
      }
      const material = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'HKDF', false, [
        'deriveBits',
      ])
      const bits = await crypto.subtle.deriveBits(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: encoder.encode('coresdk-oidc'),
          info: encoder.encode('login-state'),
        },
        material,
        256,
      )
      const key = new Uint8Array(bits)
      return { id: await keyId(key, 'login-state'), key }
    }),
  )
}

/**
 * Encrypts a login state into a compact JWE (`dir`, A256GCM) that expires after `ttl` seconds, with the newest key,
 * whose id is the JWE's `kid`.
 */
export async function sealLoginState(
  state: LoginState,
  keys: readonly StateKey[],
  ttl: number,
): Promise<string> {
  const { id, key } = keys[0]!
  const payload: Record<string, unknown> = {
    s: state.state,
    n: state.nonce,
    v: state.codeVerifier,
    r: state.returnTo,
  }
  if (state.persistent !== undefined) payload.m = state.persistent
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: id })
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .encrypt(key)
}

/**
 * Decrypts a login-state cookie with the key its `kid` names (each key, for one sealed before keys had ids); null when
 * it is missing, forged, tampered with, expired, or sealed with a key no longer configured.
 */
export async function openLoginState(
  sealed: string | undefined,
  keys: readonly StateKey[],
): Promise<LoginState | null> {
  if (!sealed) return null
  let kid: unknown
  try {
    kid = decodeProtectedHeader(sealed).kid
  } catch {
    return null
  }
  const candidates = kid === undefined ? keys : keys.filter((k) => k.id === kid)
  for (const { key } of candidates) {
    const state = await openWith(sealed, key)
    if (state !== null) return state
  }
  return null
}

async function openWith(sealed: string, key: Uint8Array): Promise<LoginState | null> {
  try {
    const { payload } = await jwtDecrypt(sealed, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    const { s, n, v, r, m } = payload
    if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string' || typeof r !== 'string')
      return null
    if (m !== undefined && typeof m !== 'boolean') return null
    return { state: s, nonce: n, codeVerifier: v, returnTo: r, ...(m === undefined ? {} : { persistent: m }) }
  } catch {
    return null
  }
}
