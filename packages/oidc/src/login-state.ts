import { CoreSDKError } from '@coresdk/core'
import { EncryptJWT, jwtDecrypt } from 'jose'

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
}

const encoder = new TextEncoder()

/** Derives the 256-bit cookie encryption key from the configured secret (HKDF-SHA-256). */
export async function deriveStateKey(secret: string | Uint8Array): Promise<Uint8Array> {
  const raw = typeof secret === 'string' ? encoder.encode(secret) : secret
  if (!(raw instanceof Uint8Array) || raw.byteLength < 32) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK OIDC configuration: cookieSecret is invalid; it accepts at least 32 bytes.',
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
  return new Uint8Array(bits)
}

/** Encrypts a login state into a compact JWE (`dir`, A256GCM) that expires after `ttl` seconds. */
export async function sealLoginState(state: LoginState, key: Uint8Array, ttl: number): Promise<string> {
  return new EncryptJWT({ s: state.state, n: state.nonce, v: state.codeVerifier, r: state.returnTo })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .encrypt(key)
}

/** Decrypts a login-state cookie; null when it is missing, forged, tampered with or expired. */
export async function openLoginState(
  sealed: string | undefined,
  key: Uint8Array,
): Promise<LoginState | null> {
  if (!sealed) return null
  try {
    const { payload } = await jwtDecrypt(sealed, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    const { s, n, v, r } = payload
    if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string' || typeof r !== 'string')
      return null
    return { state: s, nonce: n, codeVerifier: v, returnTo: r }
  } catch {
    return null
  }
}
