import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { CoreSDKError } from '@coresdk/core'
import { isValidTenantId } from '@coresdk/core/sidecar-protocol'

/** The least length of a sidecar secret, in bytes. */
export const MIN_SECRET_BYTES = 32

/** One tenant the sidecar serves and the secret its callers present. */
export interface TenantKey {
  tenantId: string
  secret: string
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  if (isIP(bare) === 6) return bare === '::1' || bare.startsWith('::ffff:127.')
  return false
}

function invalid(setting: string, accepts: string): never {
  throw new CoreSDKError('invalid_config', `CoreSDK sidecar: ${setting} is invalid; ${accepts}.`)
}

/** Checks a secret's length (never echoing it) and returns it. */
export function checkSecret(setting: string, secret: string): string {
  if (typeof secret !== 'string' || new TextEncoder().encode(secret).byteLength < MIN_SECRET_BYTES) {
    invalid(
      setting,
      `it accepts a secret of at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
    )
  }
  return secret
}

/**
 * Parses `CORESDK_SIDECAR_TENANTS`: `tenant:secret` pairs separated by commas (a secret may contain `:` but not `,`),
 * or a JSON object `{ "tenant": "secret" }`.
 */
export function parseTenants(value: string, setting = 'CORESDK_SIDECAR_TENANTS'): TenantKey[] {
  const trimmed = value.trim()
  let pairs: Array<[string, unknown]>
  if (trimmed.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch {
      return invalid(
        setting,
        'it accepts a JSON object {"tenant": "secret"} or "tenant:secret,tenant:secret"',
      )
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return invalid(setting, 'it accepts a JSON object {"tenant": "secret"}')
    }
    pairs = Object.entries(parsed)
  } else {
    pairs = trimmed
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const colon = entry.indexOf(':')
        return colon === -1 ? [entry, ''] : [entry.slice(0, colon).trim(), entry.slice(colon + 1).trim()]
      })
  }
  return pairs.map(([tenantId, secret]) => {
    if (!isValidTenantId(tenantId))
      invalid(setting, 'each tenant id has 1 to 64 letters, digits, ".", "_" or "-"')
    if (typeof secret !== 'string') invalid(`${setting} (tenant "${tenantId}")`, 'each secret is a string')
    return { tenantId, secret: checkSecret(`${setting} (tenant "${tenantId}")`, secret) }
  })
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

/** Maps a presented key to its tenant, comparing in constant time against every configured key. */
export class KeyRing {
  readonly #keys: Array<{ tenantId: string; hash: Buffer }>

  /** Throws `invalid_config` when a tenant appears twice or two tenants share a secret. */
  constructor(keys: readonly TenantKey[]) {
    const tenants = new Set<string>()
    const secrets = new Set<string>()
    for (const key of keys) {
      if (tenants.has(key.tenantId))
        invalid('CORESDK_SIDECAR_TENANTS', `tenant "${key.tenantId}" appears twice`)
      if (secrets.has(key.secret)) invalid('CORESDK_SIDECAR_TENANTS', 'every tenant needs its own secret')
      tenants.add(key.tenantId)
      secrets.add(key.secret)
    }
    this.#keys = keys.map((key) => ({ tenantId: key.tenantId, hash: digest(key.secret) }))
  }

  /** Whether any key is configured (callers must then present one). */
  get enabled(): boolean {
    return this.#keys.length > 0
  }

  /** The tenants with a key. */
  get tenants(): string[] {
    return this.#keys.map((key) => key.tenantId)
  }

  /** The tenant whose key was presented, or null. Hashing first gives equal lengths, so no length leaks either. */
  match(presented: string): string | null {
    const hash = digest(presented)
    let found: string | null = null
    for (const key of this.#keys) {
      // Every key is compared, whatever matched first, so the time taken does not depend on which one matched.
      if (timingSafeEqual(hash, key.hash) && found === null) found = key.tenantId
    }
    return found
  }
}
