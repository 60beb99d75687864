import { importJWK, importSPKI, type JWK } from 'jose'
import type { PublicJwk } from './config.ts'

/** Why no key could be chosen for a token: no key matches it, or the key set could not be fetched. */
export class KeyLookupError extends Error {
  override readonly name = 'KeyLookupError'
  readonly reason: 'unknown_key' | 'key_source_unavailable'

  constructor(reason: 'unknown_key' | 'key_source_unavailable', options?: { cause?: unknown }) {
    super(
      reason === 'unknown_key' ? 'No key matches the token.' : 'The key set could not be fetched.',
      options,
    )
    this.reason = reason
  }
}

/** The header members a key source reads to choose a key; `jku`, `jwk`, `x5u` and `x5c` are never read. */
export interface KeyHint {
  alg?: string
  kid?: string
}

/** Where verification keys come from: a secret, configured public keys, or a remote JWK Set. */
export interface KeySource {
  /**
   * The keys to try for a token, best first, already imported for its `alg`: an array when they are at hand
   * (the common case, so that no promise is made), else a promise. Throws or rejects with a
   * {@link KeyLookupError} when none fits.
   */
  candidates(hint: KeyHint): CryptoKey[] | Promise<CryptoKey[]>
  /**
   * The one key {@link KeySource.candidates} gives every token of `alg`, whatever else its header holds, when that
   * key is already imported; undefined when the header must choose, or nothing is imported yet.
   */
  sole?(alg: string): CryptoKey | undefined
  /** Stops any fetch in flight. */
  close(): void
}

const CURVES: Record<string, string> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
  EdDSA: 'Ed25519',
  Ed25519: 'Ed25519',
}

function ktyFor(alg: string): string | undefined {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return 'RSA'
  if (alg.startsWith('ES')) return 'EC'
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'OKP'
  return undefined
}

/** One public key (a JWK or an SPKI PEM), imported lazily and at most once per algorithm. */
export class KeyEntry {
  /** The key's `kid`, when it has one (PEM keys never do). */
  readonly kid: string | undefined
  /** Identifies the key material, so that a refetched key set keeps keys already imported. */
  readonly fingerprint: string
  readonly #jwk: PublicJwk | undefined
  readonly #pem: string | undefined
  readonly #imported = new Map<string, Promise<CryptoKey | null>>()
  readonly #ready = new Map<string, CryptoKey | null>()

  constructor(material: string | PublicJwk) {
    if (typeof material === 'string') {
      this.#pem = material
      this.kid = undefined
      this.fingerprint = material
    } else {
      this.#jwk = material
      this.kid = typeof material.kid === 'string' ? material.kid : undefined
      this.fingerprint = JSON.stringify(material)
    }
  }

  /** Whether this key can verify `alg` as far as its JWK members tell (a PEM is checked when imported). */
  fits(alg: string): boolean {
    const jwk = this.#jwk
    if (jwk === undefined) return true
    if (jwk.kty !== ktyFor(alg)) return false
    if (jwk.kty !== 'RSA' && jwk.crv !== CURVES[alg]) return false
    if (typeof jwk.alg === 'string' && jwk.alg !== alg && !(alg === 'EdDSA' && jwk.alg === 'Ed25519'))
      return false
    if (jwk.use !== undefined && jwk.use !== 'sig') return false
    if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return false
    return true
  }

  /** The key imported for `alg`, or null when it cannot serve `alg` (a wrong key type, a bad PEM). */
  key(alg: string): Promise<CryptoKey | null> {
    let imported = this.#imported.get(alg)
    if (imported === undefined) {
      imported = this.#import(alg).then((key) => {
        this.#ready.set(alg, key)
        return key
      })
      this.#imported.set(alg, imported)
    }
    return imported
  }

  /** The key already imported for `alg` (null when it cannot serve it), or undefined when not imported yet. */
  ready(alg: string): CryptoKey | null | undefined {
    return this.#ready.get(alg)
  }

  async #import(alg: string): Promise<CryptoKey | null> {
    try {
      if (this.#pem !== undefined) return await importSPKI(this.#pem, alg)
      // Only the public members reach the import: a JWK Set that leaks a private key still verifies with its public half.
      const {
        d: _d,
        p: _p,
        q: _q,
        dp: _dp,
        dq: _dq,
        qi: _qi,
        oth: _oth,
        k: _k,
        ...publicJwk
      } = this.#jwk as JWK
      const key = await importJWK({ ...publicJwk, alg: undefined, use: undefined, key_ops: undefined }, alg)
      return key instanceof Uint8Array ? null : key
    } catch {
      return null
    }
  }
}

async function importAll(entries: readonly KeyEntry[], alg: string): Promise<CryptoKey[]> {
  const keys = await Promise.all(entries.map((entry) => entry.key(alg)))
  return keys.filter((key): key is CryptoKey => key !== null)
}

/** The entries' keys for `alg`: synchronously when all are imported already, else once they are. */
function keysOf(entries: readonly KeyEntry[], alg: string): CryptoKey[] | Promise<CryptoKey[]> {
  const keys: CryptoKey[] = []
  for (const entry of entries) {
    const key = entry.ready(alg)
    if (key === undefined) return importAll(entries, alg)
    if (key !== null) keys.push(key)
  }
  return keys
}

function nonEmpty(keys: CryptoKey[]): CryptoKey[] {
  if (keys.length === 0) throw new KeyLookupError('unknown_key')
  return keys
}

/** An HMAC secret, imported once per allowed algorithm. */
export class SecretKeySource implements KeySource {
  readonly #secret: Uint8Array
  readonly #imported = new Map<string, Promise<CryptoKey[]>>()
  readonly #ready = new Map<string, CryptoKey[]>()

  constructor(secret: Uint8Array) {
    this.#secret = secret
  }

  candidates({ alg = '' }: KeyHint): CryptoKey[] | Promise<CryptoKey[]> {
    const ready = this.#ready.get(alg)
    if (ready !== undefined) return ready
    let imported = this.#imported.get(alg)
    if (imported === undefined) {
      // jose would import a raw secret again on every verification; importing once keeps the cold path short.
      imported = crypto.subtle
        .importKey(
          'raw',
          this.#secret as Uint8Array<ArrayBuffer>,
          { name: 'HMAC', hash: `SHA-${alg.slice(2)}` },
          false,
          ['verify'],
        )
        .then((key) => {
          this.#ready.set(alg, [key])
          return [key]
        })
      imported.catch(() => this.#imported.delete(alg))
      this.#imported.set(alg, imported)
    }
    return imported
  }

  sole(alg: string): CryptoKey | undefined {
    return this.#ready.get(alg)?.[0]
  }

  close(): void {}
}

/**
 * Configured public keys (PEM or JWK), several for rotation: a token's `kid` chooses the keys with that `kid`;
 * a token without one, or whose `kid` no key has, tries every key without a `kid`.
 */
export class StaticKeySource implements KeySource {
  readonly #entries: KeyEntry[]

  constructor(keys: ReadonlyArray<string | PublicJwk>) {
    this.#entries = keys.map((key) => new KeyEntry(key))
  }

  candidates({ alg = '', kid }: KeyHint): CryptoKey[] | Promise<CryptoKey[]> {
    const fitting = this.#entries.filter((entry) => entry.fits(alg))
    let chosen = fitting
    if (typeof kid === 'string') {
      const byKid = fitting.filter((entry) => entry.kid === kid)
      chosen = byKid.length > 0 ? byKid : fitting.filter((entry) => entry.kid === undefined)
    }
    const keys = keysOf(chosen, alg)
    return Array.isArray(keys) ? nonEmpty(keys) : keys.then(nonEmpty)
  }

  sole(alg: string): CryptoKey | undefined {
    // One key without a `kid` is chosen for every token of its algorithm: by `kid` or for the lack of one.
    const entry = this.#entries.length === 1 ? this.#entries[0]! : undefined
    if (entry === undefined || entry.kid !== undefined || !entry.fits(alg)) return undefined
    return entry.ready(alg) ?? undefined
  }

  close(): void {}
}

/** Several key sources in order (configured public keys, then a JWK Set): the first that has a key for the token wins. */
export class CompositeKeySource implements KeySource {
  readonly #sources: readonly KeySource[]

  constructor(sources: readonly KeySource[]) {
    this.#sources = sources
  }

  async candidates(hint: KeyHint): Promise<CryptoKey[]> {
    let failure: unknown = new KeyLookupError('unknown_key')
    for (const source of this.#sources) {
      try {
        return await source.candidates(hint)
      } catch (error) {
        // An outage outranks "unknown": the missing key may be in the source that could not be reached.
        if (!(failure instanceof KeyLookupError && failure.reason === 'key_source_unavailable'))
          failure = error
      }
    }
    throw failure
  }

  close(): void {
    for (const source of this.#sources) source.close()
  }
}

/** Settings of a {@link RemoteKeySource}, in milliseconds. */
export interface RemoteKeySourceOptions {
  /** How long a fetched key set is used before it is refetched in the background. */
  maxAge: number
  /** The least time between two refetches caused by unknown keys. */
  cooldown: number
  /** The deadline of one fetch, body included. */
  timeout: number
  /** The clock. @default Date.now */
  now?: () => number
  /** Runs each fetch (telemetry: its span and counters). @default the fetch itself */
  around?: (fetch: () => Promise<PublicJwk[]>) => Promise<PublicJwk[]>
}

/** The largest JWK Set accepted, in bytes. */
const MAX_JWKS_BYTES = 512 * 1024
/** After a failed first load, the least time before the next attempt, in ms (capped by the cooldown). */
const FIRST_LOAD_RETRY = 1000

/**
 * A remote JWK Set, fetched on first use and cached. After `maxAge` it is refetched in the background while the
 * cached keys keep serving (and keep serving when the refetch fails). A token whose `kid` is not in the cache
 * causes at most one refetch per `cooldown`, shared by every request waiting on it.
 */
export class RemoteKeySource implements KeySource {
  readonly #url: string
  readonly #options: Required<Omit<RemoteKeySourceOptions, 'around'>>
  readonly #around: RemoteKeySourceOptions['around']
  readonly #closed = new AbortController()
  #byKid = new Map<string, KeyEntry[]>()
  #all: KeyEntry[] = []
  #loaded = false
  #loadedAt = 0
  #lastAttemptAt = Number.NEGATIVE_INFINITY
  #lastRefetchAt = Number.NEGATIVE_INFINITY
  #lastFailed = false
  #inflight: Promise<void> | null = null
  #fetches = 0

  constructor(url: string, options: RemoteKeySourceOptions) {
    this.#url = url
    const { around, ...rest } = options
    this.#options = { now: Date.now, ...rest }
    this.#around = around
  }

  /** How many fetches this source started (for diagnostics and tests). */
  get fetchCount(): number {
    return this.#fetches
  }

  candidates(hint: KeyHint): CryptoKey[] | Promise<CryptoKey[]> {
    // The common case answers synchronously: a fresh key set that holds the token's key, already imported.
    if (this.#loaded && this.#options.now() - this.#loadedAt < this.#options.maxAge) {
      const keys = this.#find(hint)
      if (Array.isArray(keys) && keys.length > 0) return keys
    }
    return this.#lookUp(hint)
  }

  async #lookUp(hint: KeyHint): Promise<CryptoKey[]> {
    const now = this.#options.now()
    let fetchedNow = false
    if (!this.#loaded) {
      if (
        this.#inflight === null &&
        now - this.#lastAttemptAt < Math.min(this.#options.cooldown, FIRST_LOAD_RETRY)
      ) {
        throw new KeyLookupError('key_source_unavailable')
      }
      await this.#refresh()
      if (!this.#loaded) throw new KeyLookupError('key_source_unavailable')
      fetchedNow = true
    } else if (now - this.#loadedAt >= this.#options.maxAge && this.#inflight === null) {
      if (now - this.#lastAttemptAt >= this.#options.cooldown) this.#refresh().catch(() => {})
    }

    let keys = await this.#find(hint)
    if (keys.length > 0) return keys
    if (fetchedNow) throw new KeyLookupError('unknown_key')

    // An unknown key: the issuer may have rotated. Join a fetch in flight, or start one if the cooldown allows.
    if (this.#inflight !== null) {
      await this.#inflight
    } else if (this.#options.now() - this.#lastRefetchAt >= this.#options.cooldown) {
      this.#lastRefetchAt = this.#options.now()
      await this.#refresh()
    } else {
      throw new KeyLookupError(this.#lastFailed ? 'key_source_unavailable' : 'unknown_key')
    }
    keys = await this.#find(hint)
    if (keys.length > 0) return keys
    throw new KeyLookupError(this.#lastFailed ? 'key_source_unavailable' : 'unknown_key')
  }

  close(): void {
    this.#closed.abort()
  }

  #find({ alg = '', kid }: KeyHint): CryptoKey[] | Promise<CryptoKey[]> {
    const pool = typeof kid === 'string' ? this.#byKid.get(kid) : this.#all
    if (pool === undefined) return []
    return keysOf(
      pool.filter((entry) => entry.fits(alg)),
      alg,
    )
  }

  /** Fetches the key set once, however many callers ask at the same time; never rejects. */
  #refresh(): Promise<void> {
    if (this.#inflight === null) {
      this.#inflight = this.#load().finally(() => {
        this.#inflight = null
      })
    }
    return this.#inflight
  }

  async #load(): Promise<void> {
    this.#lastAttemptAt = this.#options.now()
    this.#fetches++
    try {
      const keys = await (this.#around === undefined ? this.#fetch() : this.#around(() => this.#fetch()))
      this.#install(keys)
      this.#loaded = true
      this.#loadedAt = this.#options.now()
      this.#lastFailed = false
    } catch {
      // Stale keys keep serving: an outage of the issuer must not reject tokens signed by keys we already hold.
      this.#lastFailed = true
    }
  }

  async #fetch(): Promise<PublicJwk[]> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.#options.timeout), this.#closed.signal])
    const response = await fetch(this.#url, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/jwk-set+json, application/json' },
    })
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {})
      throw new Error(`JWKS answered ${response.status}`)
    }
    const length = Number(response.headers.get('content-length') ?? 0)
    if (length > MAX_JWKS_BYTES) {
      await response.body?.cancel().catch(() => {})
      throw new Error('JWKS too large')
    }
    const text = await response.text()
    if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS too large')
    const body: unknown = JSON.parse(text)
    const keys = (body as { keys?: unknown } | null)?.keys
    if (!Array.isArray(keys)) throw new Error('JWKS has no keys array')
    return keys.filter(
      (key): key is PublicJwk =>
        key !== null && typeof key === 'object' && !Array.isArray(key) && typeof key.kty === 'string',
    )
  }

  #install(keys: PublicJwk[]): void {
    // Keys already imported are kept as they are, so a refetch does not re-import unchanged keys.
    const known = new Map<string, KeyEntry>()
    for (const entry of this.#all) known.set(entry.fingerprint, entry)
    const all: KeyEntry[] = []
    const byKid = new Map<string, KeyEntry[]>()
    for (const jwk of keys) {
      const fresh = new KeyEntry(jwk)
      const entry = known.get(fresh.fingerprint) ?? fresh
      all.push(entry)
      if (entry.kid !== undefined) {
        const list = byKid.get(entry.kid)
        if (list === undefined) byKid.set(entry.kid, [entry])
        else list.push(entry)
      }
    }
    this.#all = all
    this.#byKid = byKid
  }
}
