import { type TrustProxy, trustTest } from './client-device.ts'
import { base64UrlDecode } from './crypto.ts'
import { CoreSDKError } from './errors.ts'
import type { TelemetryOptions } from './telemetry.ts'
import type { SessionLimits, SessionStore, TokenRefresher } from './types.ts'

/** The JWS algorithms CoreSDK verifies. `none` is never among them. */
export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const
const ALL_ALGORITHMS: readonly string[] = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]

/** A public key as a JSON Web Key. */
export interface PublicJwk {
  kty?: string
  kid?: string
  alg?: string
  use?: string
  [member: string]: unknown
}

/** How tokens are verified. */
export interface JwtOptions {
  /** The accepted `iss` value(s), matched exactly. Env: `CORESDK_JWT_ISSUER` (comma-separated). Required. */
  issuer?: string | string[]
  /** The accepted `aud` value(s), matched exactly. Env: `CORESDK_JWT_AUDIENCE` (comma-separated). Required. */
  audience?: string | string[]
  /** The accepted `aud` of ID tokens (`sessions().create()`), matched exactly. Env: `CORESDK_JWT_ID_TOKEN_AUDIENCE` (comma-separated). @default audience */
  idTokenAudience?: string | string[]
  /** The algorithm allowlist; HMAC and public-key algorithms never mix. Env: `CORESDK_JWT_ALGORITHMS`. Required. */
  algorithms?: JwtAlgorithm[]
  /** A remote JWK Set URL (http or https). Env: `CORESDK_JWKS_URL`. */
  jwksUri?: string
  /** An HMAC secret of at least 32 bytes. Env: `CORESDK_JWT_SECRET`. */
  secret?: string | Uint8Array
  /** Public keys (SPKI PEM strings or JWKs); several allow rotation. Env: `CORESDK_JWT_PUBLIC_KEY` (one PEM). */
  publicKeys?: Array<string | PublicJwk>
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in seconds. Env: `CORESDK_JWT_CLOCK_TOLERANCE`. @default 5 */
  clockTolerance?: number
  /** The largest token accepted, in bytes, checked before any parsing. Env: `CORESDK_JWT_MAX_TOKEN_BYTES`. @default 8192 */
  maxTokenBytes?: number
  /** When set, the JOSE `typ` header must equal it (case-insensitive, `application/` optional), e.g. `at+jwt`. Env: `CORESDK_JWT_TYPE`. */
  requiredType?: string
  /** When set, this claim must equal `tenantId`. Env: `CORESDK_JWT_TENANT_CLAIM`. */
  tenantClaim?: string
  /** How long fetched keys are used before a background refetch, in ms. Env: `CORESDK_JWKS_CACHE_MAX_AGE_MS`. @default 600000 */
  jwksCacheMaxAge?: number
  /** The least time between two refetches triggered by unknown `kid`s, in ms. Env: `CORESDK_JWKS_COOLDOWN_MS`. @default 30000 */
  jwksCooldown?: number
  /** The deadline of one JWKS fetch, in ms. Env: `CORESDK_JWKS_TIMEOUT_MS`. @default 5000 */
  jwksTimeout?: number
  /** How many verified tokens are cached (0 disables the cache). Env: `CORESDK_JWT_CACHE_SIZE`. @default 10000 */
  cacheSize?: number
}

/** The session cookie's attributes. */
export interface CookieOptions {
  /**
   * The cookie's name. A `__Host-` name needs `secure`, `path` `'/'` and no `domain`; a `__Secure-` name needs
   * `secure`. Env: `CORESDK_COOKIE_NAME`.
   * @default '__Host-coresdk_session' when secure and host-only on `/`; '__Secure-coresdk_session' when secure with a
   * `domain` or another `path`; 'coresdk_session' when not secure (local development over http)
   */
  name?: string
  /** Env: `CORESDK_COOKIE_SECURE`. @default true */
  secure?: boolean
  /** Env: `CORESDK_COOKIE_SAMESITE`. @default 'lax' */
  sameSite?: 'strict' | 'lax' | 'none'
  /** A path starting with `/`. @default '/' */
  path?: string
  /** @default undefined (host-only) */
  domain?: string
}

/** The attributes a cookie name's prefix depends on. */
export interface CookieScope {
  secure: boolean
  path: string
  domain: string | undefined
}

/**
 * The strongest name prefix (RFC 6265bis §4.1.3) a cookie with these attributes can carry: `__Host-` when it is
 * Secure, host-only and on `Path=/` (so no subdomain can set or shadow it), `__Secure-` when it is Secure only.
 */
export function cookiePrefixFor(scope: CookieScope): '__Host-' | '__Secure-' | '' {
  if (!scope.secure) return ''
  return scope.domain === undefined && scope.path === '/' ? '__Host-' : '__Secure-'
}

// RFC 6265 §4.1.1: a cookie name is an RFC 7230 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * What makes `name` unfit for a cookie with these attributes: `name` when it is not a cookie-name token, else the
 * attribute that breaks the rules of its prefix: `secure` (both prefixes need it), `domain` or `path` (`__Host-`
 * takes no domain and only `/`); null when it fits. Browsers match the prefixes case-insensitively, and drop a
 * cookie that breaks them.
 */
export function cookieNameProblem(
  name: string,
  scope: CookieScope,
): 'name' | 'secure' | 'domain' | 'path' | null {
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) return 'name'
  const host = /^__host-/i.test(name)
  if (!host && !/^__secure-/i.test(name)) return null
  if (!scope.secure) return 'secure'
  if (host && scope.domain !== undefined) return 'domain'
  if (host && scope.path !== '/') return 'path'
  return null
}

/** How sessions are kept. */
export interface SessionOptions {
  /** Where sessions live. @default a new MemorySessionStore */
  store?: SessionStore
  /** Create a session automatically for each valid token seen on a request. @default true */
  automatic?: boolean
  /** A session unused this long expires, in seconds. Env: `CORESDK_SESSION_IDLE_TIMEOUT`. @default 1800 */
  idleTimeout?: number
  /** No session outlives this, in seconds. Env: `CORESDK_SESSION_ABSOLUTE_TIMEOUT`. @default 86400 */
  absoluteTimeout?: number
  /**
   * The absolute lifetime of a persistent ("remember me") session, in seconds: a login made with `persistent: true`
   * lives this long and its cookie carries this `Max-Age`. At least `idleTimeout`.
   * Env: `CORESDK_SESSION_PERSISTENT_TIMEOUT`. @default absoluteTimeout
   */
  persistentTimeout?: number
  /** `lastSeenAt` is written at most once per this many seconds per session. @default 60 */
  touchInterval?: number
  /** The deadline of every store call, in ms. Env: `CORESDK_STORE_TIMEOUT_MS`. @default 1000 */
  storeTimeout?: number
  /**
   * The most active sessions one user may hold; it bounds the work any one user can cause in the store.
   * Env: `CORESDK_SESSION_MAX_PER_USER`. @default 100
   */
  maxPerUser?: number
  /**
   * What a new session does when its user is at `maxPerUser`: `revoke_oldest` revokes the user's oldest active
   * session, `refuse` refuses the new one (`session_limit`, 403). Env: `CORESDK_SESSION_AT_CAP`. @default 'revoke_oldest'
   */
  atCap?: 'revoke_oldest' | 'refuse'
  /** The session cookie. */
  cookie?: CookieOptions
  /**
   * 32 bytes (base64url or a Uint8Array) that encrypt OAuth tokens at rest, or a list of such keys, newest first:
   * tokens are sealed with the first and opened with whichever key sealed them (rotation). Instances sharing a store
   * must share the keys. Env: `CORESDK_SESSION_ENCRYPTION_KEY` (comma-separated, newest first).
   * @default a random key per process
   */
  encryptionKey?: string | Uint8Array | ReadonlyArray<string | Uint8Array>
  /** Rotates OAuth tokens when `sessions().refresh()` runs on a session holding a refresh token. */
  tokenRefresher?: TokenRefresher
  /**
   * How long one instance may hold a session's refresh lock, in ms, with a store that has one: when the holder dies,
   * the next caller proceeds after this; the others wait at most this plus `storeTimeout` for the holder's result.
   * Keep it above the refresher's longest grant. Env: `CORESDK_SESSION_REFRESH_LOCK_TTL_MS`. @default 10000
   */
  refreshLockTtl?: number
}

/** Where the engine runs: in this process, or in a sidecar reached over HTTP. */
export type EngineMode = 'embedded' | 'sidecar'

/** What `new CoreSDKClient(config)` takes. Explicit options win over `CORESDK_*` environment variables. */
export interface SDKConfig {
  /** The tenant this client serves; every store key is namespaced by it. Env: `CORESDK_TENANT_ID`. @default 'default' */
  tenantId?: string
  /** The service's name, used as the `WWW-Authenticate` realm. Env: `CORESDK_SERVICE_NAME`. @default 'coresdk' */
  serviceName?: string
  /** `embedded` runs the engine here; `sidecar` calls the one at `sidecarAddr`. Env: `CORESDK_MODE`. @default 'embedded' */
  mode?: EngineMode
  /** The sidecar's base URL, used only in sidecar mode. Env: `CORESDK_SIDECAR_ADDR`. @default 'http://127.0.0.1:7233' */
  sidecarAddr?: string
  /** The shared secret presented to the sidecar. Env: `CORESDK_SIDECAR_SECRET`. */
  sidecarSecret?: string
  /** On a store or sidecar outage: `open` lets verified tokens through (degraded), `closed` answers 503. Env: `CORESDK_FAIL_MODE`. @default 'open' */
  failMode?: 'open' | 'closed'
  /**
   * Which peers may name the client in `Forwarded` / `X-Forwarded-For`, for the address recorded on new sessions:
   * `false` (none: the socket's peer is the client), `true` (every one), a hop count, or a list of addresses and CIDR
   * ranges (`10.0.0.0/8`, `fd00::/8`, or `loopback`, `linklocal`, `uniquelocal`), as Express's `trust proxy`.
   * Env: `CORESDK_TRUST_PROXY` (`true`, `false`, a number, or a comma-separated list). @default false
   */
  trustProxy?: TrustProxy
  /** The sidecar client, used only in sidecar mode. */
  sidecar?: {
    /**
     * How long a positive `authenticate` result is reused without asking the sidecar, in ms: the worst-case delay
     * before a revocation made elsewhere takes effect here (0 disables the cache). Env: `CORESDK_SIDECAR_CACHE_TTL_MS`. @default 1000
     */
    cacheTtl?: number
    /** The deadline of one sidecar call, in ms. Env: `CORESDK_SIDECAR_TIMEOUT_MS`. @default sessions.storeTimeout */
    timeout?: number
  }
  /** Token verification. */
  jwt?: JwtOptions
  /** Sessions. */
  sessions?: SessionOptions
  /** Role checks (`sdk.rbac()`). */
  rbac?: {
    /** The claim holding the user's roles, as a dotted path (`roles`, `realm_access.roles`, `scope`). Env: `CORESDK_ROLES_CLAIM`. @default 'roles' */
    rolesClaim?: string
  }
  /** OpenTelemetry traces and metrics, through the `@opentelemetry/api` module given here. @default off */
  telemetry?: TelemetryOptions
  /** The environment to read `CORESDK_*` from. @default globalThis.process?.env */
  env?: Record<string, string | undefined>
}

/** The configuration after defaults and the environment are applied. */
export interface ResolvedConfig {
  tenantId: string
  serviceName: string
  mode: EngineMode
  sidecarAddr: string
  sidecarSecret: string | undefined
  failMode: 'open' | 'closed'
  /** Which peers may name the client, as given (checked). */
  trustProxy: TrustProxy
  rbac: { rolesClaim: string }
  sidecar: { cacheTtl: number; timeout: number }
  jwt: {
    issuer: string[]
    audience: string[]
    /** Empty when ID tokens use `audience`. */
    idTokenAudience: string[]
    algorithms: JwtAlgorithm[]
    jwksUri: string | undefined
    secret: Uint8Array | undefined
    publicKeys: Array<string | PublicJwk>
    clockTolerance: number
    maxTokenBytes: number
    requiredType: string | undefined
    tenantClaim: string | undefined
    jwksCacheMaxAge: number
    jwksCooldown: number
    jwksTimeout: number
    cacheSize: number
  }
  sessions: {
    store: SessionStore | undefined
    automatic: boolean
    idleTimeout: number
    absoluteTimeout: number
    persistentTimeout: number
    touchInterval: number
    storeTimeout: number
    limits: SessionLimits
    cookie: Required<Omit<CookieOptions, 'domain'>> & { domain: string | undefined }
    /** Newest first; empty when none is configured. */
    encryptionKeys: Uint8Array[]
    tokenRefresher: TokenRefresher | undefined
    refreshLockTtl: number
  }
}

function defaultEnv(): Record<string, string | undefined> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return proc?.env ?? {}
}

function fail(setting: string, value: unknown, accepts: string): never {
  const shown = typeof value === 'string' ? `=${JSON.stringify(value).slice(1, -1)}` : ''
  throw new CoreSDKError(
    'invalid_config',
    `CoreSDK configuration: ${setting}${shown} is invalid; ${accepts}.`,
  )
}

function readTrustProxy(explicit: TrustProxy | undefined, fromEnv: string | undefined): TrustProxy {
  const setting = explicit !== undefined ? 'trustProxy' : 'CORESDK_TRUST_PROXY'
  let value: unknown = explicit
  if (value === undefined && fromEnv !== undefined) {
    if (fromEnv === 'true' || fromEnv === 'false') value = fromEnv === 'true'
    else if (/^\d+$/.test(fromEnv)) value = Number(fromEnv)
    else
      value = fromEnv
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
  }
  if (value === undefined) return false
  const accepts = 'it accepts true, false, a hop count, or a list of IP addresses and CIDR ranges'
  if (
    typeof value !== 'boolean' &&
    typeof value !== 'number' &&
    !(Array.isArray(value) && value.every((v) => typeof v === 'string'))
  )
    fail(setting, undefined, accepts)
  const test = trustTest(value as TrustProxy)
  if (typeof test === 'string') fail(setting, undefined, `${accepts} (${test})`)
  return value as TrustProxy
}

function missing(setting: string, accepts: string): never {
  throw new CoreSDKError('invalid_config', `CoreSDK configuration: ${setting} is missing; ${accepts}.`)
}

class Reader {
  constructor(private readonly env: Record<string, string | undefined>) {}

  raw(name: string): string | undefined {
    const value = this.env[name]
    return value === undefined || value.trim() === '' ? undefined : value.trim()
  }

  string(option: string, explicit: string | undefined, envName: string): string | undefined {
    if (explicit !== undefined) {
      if (typeof explicit !== 'string' || explicit.trim() === '')
        fail(option, explicit, 'it accepts a non-empty string')
      return explicit
    }
    return this.raw(envName)
  }

  list(option: string, explicit: string | string[] | undefined, envName: string): string[] {
    if (explicit !== undefined) {
      const values = Array.isArray(explicit) ? explicit : [explicit]
      if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) {
        fail(option, undefined, 'it accepts a non-empty string or array of non-empty strings')
      }
      return values
    }
    const fromEnv = this.raw(envName)
    return fromEnv
      ? fromEnv
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : []
  }

  choice<T extends string>(
    option: string,
    explicit: T | undefined,
    envName: string,
    choices: readonly T[],
    fallback: T,
  ): T {
    const setting = explicit !== undefined ? option : envName
    const value = explicit ?? this.raw(envName) ?? fallback
    if (!choices.includes(value as T))
      fail(setting, value, `it accepts ${choices.map((c) => `"${c}"`).join(' or ')}`)
    return value as T
  }

  number(
    option: string,
    explicit: number | undefined,
    envName: string,
    fallback: number,
    { min, max, integer = true }: { min: number; max: number; integer?: boolean },
  ): number {
    let value: number = fallback
    let setting = option
    let shown: unknown
    if (explicit !== undefined) {
      value = explicit
      shown = typeof explicit === 'number' ? undefined : explicit
    } else {
      const fromEnv = this.raw(envName)
      if (fromEnv !== undefined) {
        setting = envName
        shown = fromEnv
        value = /^-?\d+(\.\d+)?$/.test(fromEnv) ? Number(fromEnv) : Number.NaN
      }
    }
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      fail(setting, shown, `it accepts ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`)
    }
    return value
  }

  boolean(option: string, explicit: boolean | undefined, envName: string, fallback: boolean): boolean {
    if (explicit !== undefined) {
      if (typeof explicit !== 'boolean') fail(option, undefined, 'it accepts true or false')
      return explicit
    }
    const fromEnv = this.raw(envName)
    if (fromEnv === undefined) return fallback
    if (/^(true|1|yes)$/i.test(fromEnv)) return true
    if (/^(false|0|no)$/i.test(fromEnv)) return false
    return fail(envName, fromEnv, 'it accepts "true" or "false"')
  }
}

function checkUrl(setting: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return fail(setting, value, 'it accepts an absolute http:// or https:// URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(setting, value, 'it accepts an absolute http:// or https:// URL')
  }
  return value
}

const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/
// A cookie Domain: a host name, with the leading dot old browsers wrote allowed.
const COOKIE_DOMAIN =
  /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** Whether a tenant id is well formed: 1 to 64 characters among letters, digits, `.`, `_` and `-`. */
export function isValidTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID.test(value)
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')
const REDACTED = '[redacted]'

/**
 * Makes `util.inspect`, `console.log` and `JSON.stringify` of an object show `[redacted]` for its secret fields. The
 * fields stay readable to the code that needs them; the views are non-enumerable, so nothing else changes.
 */
function redact<T extends object>(target: T, secrets: readonly (keyof T)[]): T {
  const view = (): Record<string, unknown> => {
    const shown: Record<string, unknown> = { ...(target as Record<string, unknown>) }
    for (const name of secrets) if (shown[name as string] !== undefined) shown[name as string] = REDACTED
    return shown
  }
  Object.defineProperty(target, 'toJSON', { value: view, enumerable: false })
  Object.defineProperty(target, INSPECT, {
    value: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) =>
      inspect(view(), options),
    enumerable: false,
  })
  return target
}

/**
 * Applies defaults and the `CORESDK_*` environment to a configuration and validates it.
 * Throws a `CoreSDKError` (`invalid_config`) whose message names the setting and what it accepts.
 * `requireJwt` is false where tokens are verified elsewhere (sidecar mode).
 * Secrets in the result (the JWT secret, the sidecar secret, the encryption key) never print.
 */
export function resolveConfig(
  config: SDKConfig = {},
  options: { requireJwt?: boolean } = {},
): ResolvedConfig {
  const resolved = readConfig(config, options.requireJwt ?? true)
  redact(resolved.jwt, ['secret'])
  redact(resolved.sessions, ['encryptionKeys', 'store', 'tokenRefresher'])
  redact(resolved.sessions.cookie, [])
  return redact(resolved, ['sidecarSecret'])
}

/**
 * The session encryption keys, newest first, from the option (one key or a list) or the environment (comma-separated).
 * A bad key is named by its position, never shown.
 */
function readEncryptionKeys(
  explicit: SessionOptions['encryptionKey'],
  fromEnv: string | undefined,
): Uint8Array[] {
  const setting = explicit !== undefined ? 'sessions.encryptionKey' : 'CORESDK_SESSION_ENCRYPTION_KEY'
  let inputs: ReadonlyArray<unknown>
  if (explicit !== undefined) inputs = Array.isArray(explicit) ? explicit : [explicit]
  else if (fromEnv !== undefined) inputs = fromEnv.split(',').map((v) => v.trim())
  else return []
  const accepts = 'it accepts exactly 32 bytes, base64url-encoded'
  if (inputs.length === 0)
    fail(setting, undefined, `it accepts a key or a non-empty list of keys; ${accepts}`)
  const keys = inputs.map((input, i) => {
    const key = typeof input === 'string' ? base64UrlDecode(input) : input
    if (!(key instanceof Uint8Array) || key.byteLength !== 32) {
      const at =
        inputs.length === 1 && !Array.isArray(explicit)
          ? setting
          : `${setting} (key ${i + 1} of ${inputs.length})`
      fail(at, undefined, `${accepts}${inputs.length > 1 ? '; keys are listed newest first' : ''}`)
    }
    return key
  })
  // Sealing keys live in the resolved configuration only: a caller's later change to its buffer changes nothing.
  return keys.map((key) => new Uint8Array(key))
}

function readConfig(config: SDKConfig, requireJwt: boolean): ResolvedConfig {
  if (config === null || typeof config !== 'object')
    fail('config', undefined, 'it accepts an SDKConfig object')
  const read = new Reader(config.env ?? defaultEnv())
  const jwt = config.jwt ?? {}
  const sessions = config.sessions ?? {}

  const tenantId = read.string('tenantId', config.tenantId, 'CORESDK_TENANT_ID') ?? 'default'
  if (!TENANT_ID.test(tenantId)) {
    fail(
      config.tenantId !== undefined ? 'tenantId' : 'CORESDK_TENANT_ID',
      tenantId,
      'it accepts 1 to 64 letters, digits, ".", "_" or "-"',
    )
  }
  const serviceName = read.string('serviceName', config.serviceName, 'CORESDK_SERVICE_NAME') ?? 'coresdk'
  const mode = read.choice('mode', config.mode, 'CORESDK_MODE', ['embedded', 'sidecar'] as const, 'embedded')
  const sidecarAddr = checkUrl(
    config.sidecarAddr !== undefined ? 'sidecarAddr' : 'CORESDK_SIDECAR_ADDR',
    read.string('sidecarAddr', config.sidecarAddr, 'CORESDK_SIDECAR_ADDR') ?? 'http://127.0.0.1:7233',
  )
  const sidecarSecret = read.string('sidecarSecret', config.sidecarSecret, 'CORESDK_SIDECAR_SECRET')
  const failMode = read.choice(
    'failMode',
    config.failMode,
    'CORESDK_FAIL_MODE',
    ['open', 'closed'] as const,
    'open',
  )

  const trustProxy = readTrustProxy(config.trustProxy, read.raw('CORESDK_TRUST_PROXY'))

  const issuer = read.list('jwt.issuer', jwt.issuer, 'CORESDK_JWT_ISSUER')
  const audience = read.list('jwt.audience', jwt.audience, 'CORESDK_JWT_AUDIENCE')
  const idTokenAudience = read.list(
    'jwt.idTokenAudience',
    jwt.idTokenAudience,
    'CORESDK_JWT_ID_TOKEN_AUDIENCE',
  )
  const algorithmNames = read.list('jwt.algorithms', jwt.algorithms, 'CORESDK_JWT_ALGORITHMS')
  const algorithmSetting = jwt.algorithms !== undefined ? 'jwt.algorithms' : 'CORESDK_JWT_ALGORITHMS'
  for (const name of algorithmNames) {
    if (!ALL_ALGORITHMS.includes(name)) {
      fail(
        algorithmSetting,
        name,
        `it accepts a list among ${ALL_ALGORITHMS.join(', ')} ("none" is never accepted)`,
      )
    }
  }
  const algorithms = [...new Set(algorithmNames)] as JwtAlgorithm[]
  const hmac = algorithms.filter((a) => (HMAC_ALGORITHMS as readonly string[]).includes(a))
  if (hmac.length > 0 && hmac.length < algorithms.length) {
    fail(
      algorithmSetting,
      algorithms.join(','),
      'it accepts either HMAC algorithms (HS*) or public-key algorithms, never both',
    )
  }

  const jwksUri = jwt.jwksUri ?? read.raw('CORESDK_JWKS_URL')
  if (jwksUri !== undefined) checkUrl(jwt.jwksUri !== undefined ? 'jwt.jwksUri' : 'CORESDK_JWKS_URL', jwksUri)

  let secret: Uint8Array | undefined
  const secretInput = jwt.secret ?? read.raw('CORESDK_JWT_SECRET')
  if (secretInput !== undefined) {
    const setting = jwt.secret !== undefined ? 'jwt.secret' : 'CORESDK_JWT_SECRET'
    secret = typeof secretInput === 'string' ? new TextEncoder().encode(secretInput) : secretInput
    if (!(secret instanceof Uint8Array) || secret.byteLength < 32)
      fail(setting, undefined, 'it accepts a secret of at least 32 bytes')
  }
  const publicKeys: Array<string | PublicJwk> = [...(jwt.publicKeys ?? [])]
  const envPem = read.raw('CORESDK_JWT_PUBLIC_KEY')
  if (jwt.publicKeys === undefined && envPem) publicKeys.push(envPem.replace(/\\n/g, '\n'))

  const needJwt = requireJwt && mode === 'embedded'
  if (needJwt) {
    if (algorithms.length === 0) {
      missing(
        'CORESDK_JWT_ALGORITHMS (jwt.algorithms)',
        `it is required: a comma-separated list among ${ALL_ALGORITHMS.join(', ')}`,
      )
    }
    if (issuer.length === 0)
      missing('CORESDK_JWT_ISSUER (jwt.issuer)', 'it is required: the exact issuer of accepted tokens')
    if (audience.length === 0)
      missing('CORESDK_JWT_AUDIENCE (jwt.audience)', 'it is required: the exact audience of accepted tokens')
    const isHmac = hmac.length > 0
    if (isHmac) {
      if (!secret)
        missing(
          'CORESDK_JWT_SECRET (jwt.secret)',
          `it is required with ${algorithms.join(',')}: at least 32 bytes`,
        )
      if (jwksUri || publicKeys.length > 0) {
        fail(
          algorithmSetting,
          algorithms.join(','),
          'HMAC algorithms take jwt.secret only, never public keys or a JWKS',
        )
      }
    } else {
      if (secret)
        fail(
          'CORESDK_JWT_SECRET (jwt.secret)',
          undefined,
          `it is accepted only with HMAC algorithms, not ${algorithms.join(',')}`,
        )
      if (!jwksUri && publicKeys.length === 0) {
        missing(
          'CORESDK_JWKS_URL (jwt.jwksUri)',
          `a JWKS URL or jwt.publicKeys is required with ${algorithms.join(',')}`,
        )
      }
    }
  }

  const encryptionKeys = readEncryptionKeys(
    sessions.encryptionKey,
    read.raw('CORESDK_SESSION_ENCRYPTION_KEY'),
  )

  const cookie = sessions.cookie ?? {}
  const sameSite = read.choice(
    'sessions.cookie.sameSite',
    cookie.sameSite,
    'CORESDK_COOKIE_SAMESITE',
    ['strict', 'lax', 'none'] as const,
    'lax',
  )
  const secure = read.boolean('sessions.cookie.secure', cookie.secure, 'CORESDK_COOKIE_SECURE', true)
  if (sameSite === 'none' && !secure)
    fail('sessions.cookie.sameSite', 'none', 'SameSite=None requires a secure cookie')
  const cookiePath = cookie.path ?? '/'
  if (typeof cookiePath !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(cookiePath))
    fail('sessions.cookie.path', cookiePath, 'it accepts a path starting with "/", without spaces or ";"')
  const domain = cookie.domain
  if (domain !== undefined && (typeof domain !== 'string' || !COOKIE_DOMAIN.test(domain)))
    fail('sessions.cookie.domain', domain, 'it accepts a host name such as "example.com"')
  const scope: CookieScope = { secure, path: cookiePath, domain }
  const nameSetting = cookie.name !== undefined ? 'sessions.cookie.name' : 'CORESDK_COOKIE_NAME'
  const cookieName =
    read.string('sessions.cookie.name', cookie.name, 'CORESDK_COOKIE_NAME') ??
    `${cookiePrefixFor(scope)}coresdk_session`
  const problem = cookieNameProblem(cookieName, scope)
  if (problem === 'name') fail(nameSetting, cookieName, 'it accepts a cookie name token')
  if (problem !== null) {
    const prefix = /^__host-/i.test(cookieName) ? '__Host-' : '__Secure-'
    const needs = {
      secure: `${cookie.secure !== undefined ? 'sessions.cookie.secure' : 'CORESDK_COOKIE_SECURE'} true`,
      domain: 'no sessions.cookie.domain',
      path: 'sessions.cookie.path "/"',
    }[problem]
    fail(
      nameSetting,
      cookieName,
      `a ${prefix} name requires ${needs}; drop the prefix or change that setting`,
    )
  }

  const idleTimeout = read.number(
    'sessions.idleTimeout',
    sessions.idleTimeout,
    'CORESDK_SESSION_IDLE_TIMEOUT',
    1800,
    { min: 1, max: 31_536_000 },
  )
  const absoluteTimeout = read.number(
    'sessions.absoluteTimeout',
    sessions.absoluteTimeout,
    'CORESDK_SESSION_ABSOLUTE_TIMEOUT',
    86_400,
    {
      min: 1,
      max: 31_536_000,
    },
  )
  if (absoluteTimeout < idleTimeout)
    fail('sessions.absoluteTimeout', undefined, 'it must be at least sessions.idleTimeout')
  const persistentTimeout = read.number(
    'sessions.persistentTimeout',
    sessions.persistentTimeout,
    'CORESDK_SESSION_PERSISTENT_TIMEOUT',
    absoluteTimeout,
    { min: 1, max: 31_536_000 },
  )
  if (persistentTimeout < idleTimeout) {
    fail(
      sessions.persistentTimeout !== undefined
        ? 'sessions.persistentTimeout'
        : 'CORESDK_SESSION_PERSISTENT_TIMEOUT',
      undefined,
      'it must be at least sessions.idleTimeout',
    )
  }

  if (
    sessions.store !== undefined &&
    (typeof sessions.store !== 'object' || typeof sessions.store.create !== 'function')
  ) {
    fail('sessions.store', undefined, 'it accepts a SessionStore')
  }

  const storeTimeout = read.number(
    'sessions.storeTimeout',
    sessions.storeTimeout,
    'CORESDK_STORE_TIMEOUT_MS',
    1000,
    { min: 10, max: 60_000 },
  )
  const sidecar = config.sidecar ?? {}
  const sidecarOptions = {
    cacheTtl: read.number('sidecar.cacheTtl', sidecar.cacheTtl, 'CORESDK_SIDECAR_CACHE_TTL_MS', 1000, {
      min: 0,
      max: 60_000,
    }),
    timeout: read.number('sidecar.timeout', sidecar.timeout, 'CORESDK_SIDECAR_TIMEOUT_MS', storeTimeout, {
      min: 10,
      max: 60_000,
    }),
  }

  return {
    tenantId,
    serviceName,
    mode,
    sidecarAddr,
    sidecarSecret,
    failMode,
    trustProxy,
    rbac: {
      rolesClaim: read.string('rbac.rolesClaim', config.rbac?.rolesClaim, 'CORESDK_ROLES_CLAIM') ?? 'roles',
    },
    sidecar: sidecarOptions,
    jwt: {
      issuer,
      audience,
      idTokenAudience,
      algorithms,
      jwksUri,
      secret,
      publicKeys,
      clockTolerance: read.number(
        'jwt.clockTolerance',
        jwt.clockTolerance,
        'CORESDK_JWT_CLOCK_TOLERANCE',
        5,
        { min: 0, max: 300 },
      ),
      maxTokenBytes: read.number(
        'jwt.maxTokenBytes',
        jwt.maxTokenBytes,
        'CORESDK_JWT_MAX_TOKEN_BYTES',
        8192,
        { min: 256, max: 65_536 },
      ),
      requiredType: read.string('jwt.requiredType', jwt.requiredType, 'CORESDK_JWT_TYPE'),
      tenantClaim: read.string('jwt.tenantClaim', jwt.tenantClaim, 'CORESDK_JWT_TENANT_CLAIM'),
      jwksCacheMaxAge: read.number(
        'jwt.jwksCacheMaxAge',
        jwt.jwksCacheMaxAge,
        'CORESDK_JWKS_CACHE_MAX_AGE_MS',
        600_000,
        {
          min: 1000,
          max: 86_400_000,
        },
      ),
      jwksCooldown: read.number('jwt.jwksCooldown', jwt.jwksCooldown, 'CORESDK_JWKS_COOLDOWN_MS', 30_000, {
        min: 0,
        max: 3_600_000,
      }),
      jwksTimeout: read.number('jwt.jwksTimeout', jwt.jwksTimeout, 'CORESDK_JWKS_TIMEOUT_MS', 5000, {
        min: 50,
        max: 60_000,
      }),
      cacheSize: read.number('jwt.cacheSize', jwt.cacheSize, 'CORESDK_JWT_CACHE_SIZE', 10_000, {
        min: 0,
        max: 10_000_000,
      }),
    },
    sessions: {
      store: sessions.store,
      automatic: read.boolean('sessions.automatic', sessions.automatic, 'CORESDK_SESSION_AUTOMATIC', true),
      idleTimeout,
      absoluteTimeout,
      persistentTimeout,
      touchInterval: read.number(
        'sessions.touchInterval',
        sessions.touchInterval,
        'CORESDK_SESSION_TOUCH_INTERVAL',
        60,
        { min: 0, max: 86_400 },
      ),
      storeTimeout,
      limits: {
        maxPerUser: read.number(
          'sessions.maxPerUser',
          sessions.maxPerUser,
          'CORESDK_SESSION_MAX_PER_USER',
          100,
          { min: 1, max: 100_000 },
        ),
        atCap: read.choice(
          'sessions.atCap',
          sessions.atCap,
          'CORESDK_SESSION_AT_CAP',
          ['revoke_oldest', 'refuse'] as const,
          'revoke_oldest',
        ),
      },
      cookie: {
        name: cookieName,
        secure,
        sameSite,
        path: cookiePath,
        domain,
      },
      encryptionKeys,
      tokenRefresher: sessions.tokenRefresher,
      refreshLockTtl: read.number(
        'sessions.refreshLockTtl',
        sessions.refreshLockTtl,
        'CORESDK_SESSION_REFRESH_LOCK_TTL_MS',
        10_000,
        { min: 100, max: 300_000 },
      ),
    },
  }
}
