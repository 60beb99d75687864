import type { TrustProxy } from './client-device.ts'
import type { EngineMode, JwtAlgorithm, ResolvedConfig } from './config.ts'
import type { SessionLimits } from './types.ts'

/**
 * What `sdk.config` shows: the configuration after defaults and `CORESDK_*` environment variables were applied,
 * frozen, and without any secret. Where a secret was set, a boolean says so (`hasSecret`, `hasSidecarSecret`,
 * `hasEncryptionKey`) and its value stays inside the client. The session store and the token refresher (objects
 * that may hold connections and credentials) are left out too (`hasStore`, `hasTokenRefresher`), and public keys are
 * only counted (`publicKeyCount`: a private key given by mistake never shows).
 * @example
 * const sdk = new CoreSDKClient({ tenantId: 'acme', jwt: { ... } })
 * sdk.config.tenantId // 'acme'
 * sdk.config.jwt.hasSecret // true with an HMAC secret; the secret itself is not readable here
 */
export interface ClientConfig {
  readonly tenantId: string
  readonly serviceName: string
  readonly mode: EngineMode
  readonly sidecarAddr: string
  /** Whether a sidecar secret was given (`sidecarSecret`, `CORESDK_SIDECAR_SECRET`). */
  readonly hasSidecarSecret: boolean
  readonly failMode: 'open' | 'closed'
  /** Which peers may name the client in `Forwarded` / `X-Forwarded-For`. */
  readonly trustProxy: TrustProxy
  readonly rbac: { readonly rolesClaim: string }
  readonly sidecar: { readonly cacheTtl: number; readonly timeout: number }
  readonly jwt: {
    readonly issuer: readonly string[]
    readonly audience: readonly string[]
    /** Empty when ID tokens use `audience`. */
    readonly idTokenAudience: readonly string[]
    readonly algorithms: readonly JwtAlgorithm[]
    readonly jwksUri: string | undefined
    /** Whether an HMAC secret was given (`jwt.secret`, `CORESDK_JWT_SECRET`). */
    readonly hasSecret: boolean
    /** How many public keys were given (`jwt.publicKeys`, `CORESDK_JWT_PUBLIC_KEY`); a mistaken private key never shows. */
    readonly publicKeyCount: number
    readonly clockTolerance: number
    readonly maxTokenBytes: number
    readonly requiredType: string | undefined
    readonly tenantClaim: string | undefined
    readonly jwksCacheMaxAge: number
    readonly jwksCooldown: number
    readonly jwksTimeout: number
    readonly cacheSize: number
  }
  readonly sessions: {
    /** Whether a session store was given; false means this client's own in-memory store. */
    readonly hasStore: boolean
    readonly automatic: boolean
    readonly idleTimeout: number
    readonly absoluteTimeout: number
    /** The absolute lifetime of a session made with `persistent: true` (remember me), in seconds. */
    readonly persistentTimeout: number
    readonly touchInterval: number
    readonly storeTimeout: number
    readonly refreshLockTtl: number
    readonly limits: Readonly<SessionLimits>
    readonly cookie: {
      readonly name: string
      readonly secure: boolean
      readonly sameSite: 'strict' | 'lax' | 'none'
      readonly path: string
      readonly domain: string | undefined
    }
    /** Whether a key sealing OAuth tokens was given (`sessions.encryptionKey`, `CORESDK_SESSION_ENCRYPTION_KEY`). */
    readonly hasEncryptionKey: boolean
    /** Whether a token refresher was given (`sessions.tokenRefresher`). */
    readonly hasTokenRefresher: boolean
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/**
 * The public view of a resolved configuration: every field copied (arrays and keys too, so that nothing in the view
 * is shared with what the client uses), each secret replaced by whether it was set. Field by field on purpose: a
 * setting added to `ResolvedConfig` shows here only once someone decided it may.
 */
export function clientConfigOf(config: ResolvedConfig): ClientConfig {
  const { jwt, sessions } = config
  return deepFreeze({
    tenantId: config.tenantId,
    serviceName: config.serviceName,
    mode: config.mode,
    sidecarAddr: config.sidecarAddr,
    hasSidecarSecret: config.sidecarSecret !== undefined,
    failMode: config.failMode,
    trustProxy: Array.isArray(config.trustProxy) ? Object.freeze([...config.trustProxy]) : config.trustProxy,
    rbac: { rolesClaim: config.rbac.rolesClaim },
    sidecar: { cacheTtl: config.sidecar.cacheTtl, timeout: config.sidecar.timeout },
    jwt: {
      issuer: [...jwt.issuer],
      audience: [...jwt.audience],
      idTokenAudience: [...jwt.idTokenAudience],
      algorithms: [...jwt.algorithms],
      jwksUri: jwt.jwksUri,
      hasSecret: jwt.secret !== undefined,
      publicKeyCount: jwt.publicKeys.length,
      clockTolerance: jwt.clockTolerance,
      maxTokenBytes: jwt.maxTokenBytes,
      requiredType: jwt.requiredType,
      tenantClaim: jwt.tenantClaim,
      jwksCacheMaxAge: jwt.jwksCacheMaxAge,
      jwksCooldown: jwt.jwksCooldown,
      jwksTimeout: jwt.jwksTimeout,
      cacheSize: jwt.cacheSize,
    },
    sessions: {
      hasStore: sessions.store !== undefined,
      automatic: sessions.automatic,
      idleTimeout: sessions.idleTimeout,
      absoluteTimeout: sessions.absoluteTimeout,
      persistentTimeout: sessions.persistentTimeout,
      touchInterval: sessions.touchInterval,
      storeTimeout: sessions.storeTimeout,
      refreshLockTtl: sessions.refreshLockTtl,
      limits: { maxPerUser: sessions.limits.maxPerUser, atCap: sessions.limits.atCap },
      cookie: { ...sessions.cookie },
      hasEncryptionKey: sessions.encryptionKeys.length > 0,
      hasTokenRefresher: sessions.tokenRefresher !== undefined,
    },
  })
}
