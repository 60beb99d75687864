import { base64url, type CryptoKey, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'

/** The algorithms the test kit creates keys for. */
export type TestAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA'

/** A public JWK as the test kit publishes it: always with `kid`, `alg` and `use: 'sig'`. */
export type TestJwk = { kty: string; kid: string; alg: string; use: string; [member: string]: unknown }

/** A key (pair) for minting test tokens, with its public forms ready for configuration or a JWKS server. */
export interface TestKeys {
  alg: TestAlgorithm
  kid: string
  /** The signing key: a private CryptoKey, or the HMAC secret bytes. */
  signingKey: CryptoKey | Uint8Array
  /** The HMAC secret (HS* only). */
  secret: Uint8Array | undefined
  /** The public key as a JWK with `kid`, `alg` and `use: 'sig'` (asymmetric only). */
  publicJwk: TestJwk | undefined
  /** The public key as an SPKI PEM (asymmetric only). */
  publicPem: string | undefined
}

let kidCounter = 0

/**
 * Creates a fresh key for `alg`: a random 32-byte (or larger) secret for HS*, a key pair otherwise.
 * @example
 * const keys = await createTestKeys('ES256')
 * const server = await startJwksServer({ keys: [keys.publicJwk!] })
 */
export async function createTestKeys(
  alg: TestAlgorithm = 'RS256',
  options: { kid?: string } = {},
): Promise<TestKeys> {
  const kid =
    options.kid ??
    `test-${alg.toLowerCase()}-${++kidCounter}-${base64url.encode(crypto.getRandomValues(new Uint8Array(6)))}`
  if (alg.startsWith('HS')) {
    const secret = crypto.getRandomValues(new Uint8Array(Number(alg.slice(2)) / 8))
    return { alg, kid, signingKey: secret, secret, publicJwk: undefined, publicPem: undefined }
  }
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk: TestJwk = {
    ...(await exportJWK(publicKey)),
    kty: alg.startsWith('ES') ? 'EC' : alg === 'EdDSA' ? 'OKP' : 'RSA',
    kid,
    alg,
    use: 'sig',
  }
  const publicPem = await exportSPKI(publicKey)
  return { alg, kid, signingKey: privateKey, secret: undefined, publicJwk, publicPem }
}

/** What {@link mintToken} signs. */
export interface MintOptions {
  /** The `alg` header; must suit the key. @default the key's alg, else 'RS256' */
  alg?: string
  /** Keys from {@link createTestKeys}; their `kid` goes into the header unless `kid` is given (or null). */
  keys?: TestKeys
  /** A signing key (private CryptoKey), when `keys` is not given. */
  key?: CryptoKey
  /** An HMAC secret, when `keys` is not given (a string is UTF-8 encoded, e.g. a public key PEM for a confusion attack). */
  secret?: string | Uint8Array
  /** The payload; `iat` and `exp` are added unless set here or switched off. */
  claims?: Record<string, unknown>
  /** Extra protected-header members (`typ`, `jku`, `x5u`, …); they override the defaults. */
  header?: Record<string, unknown>
  /** The `kid` header; null leaves it out. @default keys.kid */
  kid?: string | null
  /** Seconds from `now` until `exp`, or null to leave `exp` out. @default 300 */
  expiresIn?: number | null
  /** Seconds from `now` until `nbf`; leave undefined for no `nbf`. */
  notBefore?: number
  /** Whether to set `iat` to `now`. @default true */
  issuedAt?: boolean
  /** The clock, in seconds since the epoch. @default the current time */
  now?: number
}

/**
 * Signs a JWT with any claims and headers. For tokens jose refuses to build (`alg: none`, garbage), use
 * {@link craftToken}.
 * @example
 * const token = await mintToken({ keys, claims: { iss, aud, sub: 'user-1' } })
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const keys = options.keys
  const alg = options.alg ?? keys?.alg ?? 'RS256'
  let signingKey: CryptoKey | Uint8Array | undefined =
    options.key ??
    (typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret)
  signingKey ??= keys?.signingKey
  if (signingKey === undefined) throw new TypeError('mintToken needs keys, key or secret')
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {}
  if (options.issuedAt !== false) claims.iat = now
  if (options.expiresIn !== null) claims.exp = now + (options.expiresIn ?? 300)
  if (options.notBefore !== undefined) claims.nbf = now + options.notBefore
  Object.assign(claims, options.claims)
  const kid = options.kid === undefined ? keys?.kid : (options.kid ?? undefined)
  const header = { alg, ...(kid === undefined ? {} : { kid }), ...options.header }
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(signingKey)
}

function encodeSegment(value: unknown): string {
  if (typeof value === 'string') return value
  return base64url.encode(JSON.stringify(value))
}

/**
 * Builds a compact token by hand, without any check: for `alg: none`, bad base64 or JSON, missing segments.
 * An object segment is JSON-encoded then base64url-encoded; a string segment is used as it is.
 * @example
 * craftToken({ header: { alg: 'NoNe' }, payload: { sub: 'x' } }) // 'eyJ….eyJ….'
 */
export function craftToken(parts: { header: unknown; payload: unknown; signature?: string }): string {
  return `${encodeSegment(parts.header)}.${encodeSegment(parts.payload)}.${parts.signature ?? ''}`
}

/** Options of {@link TestIssuer.create}. */
export interface TestIssuerOptions {
  /** @default 'RS256' */
  alg?: TestAlgorithm
  /** @default 'https://issuer.test/' */
  issuer?: string
  /** @default 'test-api' */
  audience?: string
  /** The default `sub`. @default 'user-1' */
  subject?: string
  /** The key's `kid`. @default a random one */
  kid?: string
}

/** The `jwt` options that make CoreSDK accept a {@link TestIssuer}'s tokens (add `jwksUri` when serving its keys). */
export interface TestIssuerJwtOptions {
  issuer: string
  audience: string
  algorithms: [TestAlgorithm]
  secret?: Uint8Array
  publicKeys?: TestJwk[]
}

/**
 * An issuer for tests: one key, and tokens with sensible defaults (`iss`, `aud`, `sub`, `iat` now, `exp` in five
 * minutes, the `kid` header).
 * @example
 * const issuer = await TestIssuer.create({ alg: 'ES256' })
 * const sdk = new CoreSDKClient({ jwt: issuer.jwtOptions() })
 * const token = await issuer.mint({ email: 'a@example.com' })
 */
export class TestIssuer {
  readonly keys: TestKeys
  readonly issuer: string
  readonly audience: string
  readonly subject: string

  private constructor(keys: TestKeys, options: TestIssuerOptions) {
    this.keys = keys
    this.issuer = options.issuer ?? 'https://issuer.test/'
    this.audience = options.audience ?? 'test-api'
    this.subject = options.subject ?? 'user-1'
  }

  /** Creates an issuer with a fresh key. */
  static async create(options: TestIssuerOptions = {}): Promise<TestIssuer> {
    const keys = await createTestKeys(
      options.alg ?? 'RS256',
      options.kid === undefined ? {} : { kid: options.kid },
    )
    return new TestIssuer(keys, options)
  }

  /** The issuer's algorithm. */
  get alg(): TestAlgorithm {
    return this.keys.alg
  }

  /** The public JWK Set (empty for HMAC). */
  get jwks(): { keys: TestJwk[] } {
    return { keys: this.keys.publicJwk ? [this.keys.publicJwk] : [] }
  }

  /** Configuration for CoreSDK's `jwt` option: issuer, audience, algorithm and the key itself. */
  jwtOptions(): TestIssuerJwtOptions {
    const base = {
      issuer: this.issuer,
      audience: this.audience,
      algorithms: [this.keys.alg] as [TestAlgorithm],
    }
    return this.keys.secret ? { ...base, secret: this.keys.secret } : { ...base, publicKeys: this.jwks.keys }
  }

  /** Mints a token with the defaults, overridden by `claims` (a claim set to undefined is left out) and `options`. */
  mint(
    claims: Record<string, unknown> = {},
    options: Omit<MintOptions, 'claims' | 'keys'> = {},
  ): Promise<string> {
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.audience,
      sub: this.subject,
      ...claims,
    }
    for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name]
    return mintToken({ ...options, keys: this.keys, claims: payload })
  }
}
