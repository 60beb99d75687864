const encoder = new TextEncoder()

/** Encodes bytes as base64url without padding. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes base64url (padding optional); null when the input is not base64url. */
export function base64UrlDecode(value: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) return null
  const normal = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
  try {
    const binary = atob(normal + '='.repeat((4 - (normal.length % 4)) % 4))
    return Uint8Array.from(binary, (c) => c.charCodeAt(0))
  } catch {
    return null
  }
}

/** SHA-256 of a string, base64url. */
export async function sha256(value: string): Promise<string> {
  return base64UrlEncode(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value))))
}

/** `size` random bytes, base64url. */
export function randomToken(size = 32): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(size)))
}

/** Compares two strings in time that depends only on their length. */
export function timingSafeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length)
  let diff = a.length ^ b.length
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0)
  return diff === 0
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A session id: `sess_` + a ULID (48-bit millisecond time, 80 random bits, Crockford base32). */
export function newSessionId(now: number = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  const random = crypto.getRandomValues(new Uint8Array(16))
  let rest = ''
  for (let i = 0; i < 16; i++) rest += CROCKFORD[random[i]! & 31]
  return `sess_${time}${rest}`
}

// A lone UTF-16 surrogate: such a string has no UTF-8 form, so it cannot name a user or a session anywhere.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether a value can identify a user or a session: a non-empty, well-formed (no lone surrogate) string. */
export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !LONE_SURROGATE.test(value)
}

/** Whether a string has the shape of a session id. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && /^sess_[0-9A-HJKMNP-TV-Z]{26}$/.test(value)
}

/** A key's id: 48 bits of a domain-separated SHA-256 of it, base64url. It names the key and reveals nothing of it. */
export async function keyId(key: Uint8Array, purpose: string): Promise<string> {
  const input = new Uint8Array([...encoder.encode(`coresdk key id\0${purpose}\0`), ...key])
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input))
  return base64UrlEncode(digest.slice(0, 6))
}

interface SealingKey {
  id: string
  key: CryptoKey
}

/**
 * AES-256-GCM over strings, for tokens at rest, under a list of keys, newest first: it seals with the first and opens
 * with whichever key sealed the value, named by its key id, so that keys can be rotated without ending sessions.
 */
export class Sealer {
  readonly #keys: Promise<SealingKey[]>

  constructor(keys?: readonly Uint8Array[]) {
    const raws = keys !== undefined && keys.length > 0 ? keys : [crypto.getRandomValues(new Uint8Array(32))]
    this.#keys = Promise.all(
      raws.map(async (raw) => ({
        id: await keyId(raw, 'sealer'),
        key: await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
          'encrypt',
          'decrypt',
        ]),
      })),
    )
  }

  /** Encrypts with the newest key; the output is `<key id>.` + base64url(iv ‖ ciphertext ‖ tag). */
  async seal(plaintext: string): Promise<string> {
    const { id, key } = (await this.#keys)[0]!
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, encoder.encode(plaintext)),
    )
    const out = new Uint8Array(iv.length + sealed.length)
    out.set(iv)
    out.set(sealed, iv.length)
    return `${id}.${base64UrlEncode(out)}`
  }

  /** Whether a sealed value was sealed with the newest key (so needs no re-sealing). */
  async isCurrent(sealed: string): Promise<boolean> {
    return sealed.startsWith(`${(await this.#keys)[0]!.id}.`)
  }

  /**
   * Decrypts; null when none of the keys sealed the input. A value without a key id (sealed before keys had ids) is
   * tried with each key.
   */
  async open(sealed: string): Promise<string | null> {
    const dot = sealed.indexOf('.')
    const keys = await this.#keys
    const id = dot === -1 ? null : sealed.slice(0, dot)
    const candidates = id === null ? keys : keys.filter((k) => k.id === id)
    const bytes = base64UrlDecode(dot === -1 ? sealed : sealed.slice(dot + 1))
    if (!bytes || bytes.length < 29) return null
    for (const { key } of candidates) {
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: bytes.slice(0, 12) },
          key,
          bytes.slice(12),
        )
        return new TextDecoder().decode(plain)
      } catch {
        // Not this key: the next one, if any.
      }
    }
    return null
  }
}
