import { CoreSDKError } from '@coresdk/core'
import {
  parseRevocationEvent,
  type RefreshLockAnswer,
  type RefreshReleaseAnswer,
  type RevocationEvent,
  SessionCache,
  type SessionCacheOptions,
  type SessionCacheStats,
  type SessionLimits,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from '@coresdk/core/store'
import type { Cluster, Redis } from 'ioredis'
import { storeError } from './errors.ts'
import { encodeKeyPart, KeyLayout } from './keys.ts'
import { PAGE_SIZE, scripts } from './scripts.ts'

/** An ioredis client: a single node or Sentinel (`Redis`), or a `Cluster`. */
export type RedisClient = Redis | Cluster

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** The ioredis client the store sends commands through; the store never closes it. */
  client: RedisClient
  /** The start of every key and of the revocation channel's name (no `{`, `}` or spaces). @default 'coresdk' */
  keyPrefix?: string
  /** The deadline of each store operation, in ms; keep it at or below the client's `sessions.storeTimeout`. @default 1000 */
  commandTimeout?: number
  /** The per-instance cache that lets a warm request skip Redis; `false` disables it. */
  localCache?: SessionCacheOptions | false
  /**
   * The connection that subscribes to revocations (a connection in subscriber mode runs no other command).
   * `null` disables fan-out, and with it the local cache. @default client.duplicate(), closed by `close()`
   */
  subscriber?: RedisClient | null
}

/** A {@link SessionStore} in Redis, with revocation fan-out over pub/sub. */
export interface RedisSessionStore extends SessionStore {
  revokeOthersForUser(tenantId: string, userId: string, keepId: string, at: number): Promise<string[]>
  onRevocation(listener: (event: RevocationEvent) => void): () => void
  close(): Promise<void>
  /** Resolves once the revocation channel is subscribed (the local cache is in use); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>
  /** Local cache counters, for monitoring. */
  stats(): SessionCacheStats
}

const PATCHABLE = ['lastSeenAt', 'expiresAt', 'secretHash', 'tokens', 'claims', 'retainUntil'] as const
const FORMAT_VERSION = '1'

function decodeFields(fields: unknown): SessionRecord | null {
  if (!Array.isArray(fields) || fields.length === 0) return null
  const record: Record<string, unknown> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = String(fields[i])
    if (!name.startsWith('_')) record[name] = JSON.parse(String(fields[i + 1]))
  }
  return typeof record.id === 'string' && typeof record.userId === 'string'
    ? (record as unknown as SessionRecord)
    : null
}

// A record issued at or before its user's revoke-all marker reads as revoked even before the revoke-all's pages
// have reached it: a marker set is a revoke-all made.
function underMarker(record: SessionRecord | null, marker: unknown): SessionRecord | null {
  if (record === null || record.revokedAt !== null || marker === null || marker === undefined) return record
  const at = Number(marker)
  return record.issuedAt <= at ? { ...record, revokedAt: at } : record
}

/**
 * The per-user bound when `create` is given none (CoreSDKClient always passes its `sessions.maxPerUser` and
 * `sessions.atCap`): no user holds more than 1000 active sessions, the oldest going first.
 */
const DEFAULT_LIMITS: SessionLimits = { maxPerUser: 1000, atCap: 'revoke_oldest' }

// A loop bound, not a limit anyone meets: 1000 pages of PAGE_SIZE is far past any per-user cap.
const MAX_PAGES = 1000

function checkLimits(limits: SessionLimits): void {
  if (!Number.isInteger(limits?.maxPerUser) || limits.maxPerUser < 1)
    throw new TypeError('create() takes limits.maxPerUser as a positive integer.')
  if (limits.atCap !== 'revoke_oldest' && limits.atCap !== 'refuse')
    throw new TypeError("create() takes limits.atCap as 'revoke_oldest' or 'refuse'.")
}

function encodeFields(record: SessionRecord, bind: string): string[] {
  const fields = ['_v', FORMAT_VERSION, '_bind', bind]
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined) fields.push(name, JSON.stringify(value))
  }
  return fields
}

/** A patch as the scripts take it: field/value pairs, each value JSON-encoded. */
function patchFields(patch: SessionPatch): string[] {
  const fields: string[] = []
  for (const name of PATCHABLE) {
    if (patch[name] !== undefined) fields.push(name, JSON.stringify(patch[name]))
  }
  return fields
}

// A pointer holds its user id as JSON: ASCII whatever the id holds, so a lone surrogate survives the trip to Redis.
function readPointer(value: string | null): string | null {
  if (value === null) return null
  const userId: unknown = JSON.parse(value)
  if (typeof userId !== 'string') throw new TypeError('A pointer key holds no user id.')
  return userId
}

function invalid(setting: string, accepts: string): CoreSDKError {
  return new CoreSDKError('invalid_config', `Invalid ${setting}: ${accepts}.`)
}

class RedisSessionStoreImpl implements RedisSessionStore {
  readonly #client: Redis
  readonly #keys: KeyLayout
  readonly #timeout: number
  readonly #cache: SessionCache
  readonly #subscriber: Redis | null
  readonly #ownsSubscriber: boolean
  readonly #listeners = new Set<(event: RevocationEvent) => void>()
  readonly #detach: Array<() => void> = []
  #generation = 0
  #closed = false
  #waiters = new Set<() => void>()

  constructor(options: RedisSessionStoreOptions) {
    if (typeof options?.client?.evalsha !== 'function')
      throw invalid('client', 'it accepts an ioredis Redis or Cluster client')
    const clientOptions = options.client.options as {
      keyPrefix?: string
      redisOptions?: { keyPrefix?: string }
    }
    if (clientOptions.keyPrefix || clientOptions.redisOptions?.keyPrefix) {
      // Scripts build key names from their arguments, which the client's keyPrefix would not reach.
      throw invalid('client', "the client's keyPrefix is not supported; use the store's keyPrefix option")
    }
    const prefix = options.keyPrefix ?? 'coresdk'
    if (prefix === '' || /[{}\s]/.test(prefix))
      throw invalid('keyPrefix', 'it accepts a non-empty string without {, } or spaces')
    const timeout = options.commandTimeout ?? 1000
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw invalid('commandTimeout', 'it accepts a positive number of ms')
    this.#client = options.client as unknown as Redis
    this.#keys = new KeyLayout(prefix)
    this.#timeout = timeout
    this.#cache = new SessionCache(
      options.localCache === false ? { maxStaleness: 0 } : (options.localCache ?? {}),
    )
    if (options.subscriber === null) {
      this.#subscriber = null
      this.#ownsSubscriber = false
      return
    }
    this.#ownsSubscriber = options.subscriber === undefined
    this.#subscriber = (options.subscriber ?? this.#client.duplicate()) as unknown as Redis
    this.#listen(this.#subscriber)
  }

  #listen(subscriber: Redis): void {
    // biome-ignore lint/suspicious/noExplicitAny: ioredis types its event handlers with any
    const on = (event: string, handler: (...args: any[]) => void) => {
      subscriber.on(event, handler)
      this.#detach.push(() => subscriber.off(event, handler))
    }
    on('message', (channel: string, message: string) => {
      if (channel === this.#keys.channel) this.#receive(message)
    })
    on('ready', () => this.#subscribe())
    for (const event of ['close', 'reconnecting', 'end']) {
      on(event, () => {
        // Messages may be lost while the subscriber is away: distrust the cache until subscribed again.
        this.#generation++
        this.#cache.distrust()
      })
    }
    // Connection errors show as failed store calls; an 'error' event without a listener must not crash the process.
    if (this.#ownsSubscriber) on('error', () => {})
    if (subscriber.status === 'ready') this.#subscribe()
    else if (subscriber.status === 'wait') subscriber.connect().catch(() => {})
  }

  #subscribe(): void {
    const subscriber = this.#subscriber
    if (subscriber === null || this.#closed) return
    const generation = this.#generation
    subscriber.subscribe(this.#keys.channel).then(
      () => {
        if (generation !== this.#generation || this.#closed) return
        this.#cache.trust()
        for (const wake of this.#waiters) wake()
        this.#waiters.clear()
      },
      () => {},
    )
  }

  #receive(message: string): void {
    const event = parseRevocationEvent(message)
    if (event === null) return
    this.#cache.apply(event)
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not stop the others from hearing of the revocation.
      }
    }
  }

  #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed)
      return Promise.reject(new CoreSDKError('store_unavailable', 'The Redis session store is closed.'))
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new CoreSDKError('store_unavailable', `Redis did not answer within ${this.#timeout} ms.`)),
        this.#timeout,
      )
      Promise.resolve()
        .then(work)
        .then(
          (value) => {
            clearTimeout(timer)
            resolve(value)
          },
          (error: unknown) => {
            clearTimeout(timer)
            reject(storeError(error))
          },
        )
    })
  }

  async #owner(tenantId: string, id: string): Promise<string | null> {
    const known = this.#cache.owner(tenantId, id)
    if (known !== undefined) return known
    const userId = readPointer(await this.#client.get(this.#keys.idPointer(tenantId, id)))
    if (userId !== null) this.#cache.setOwner(tenantId, id, userId)
    return userId
  }

  async #writePointers(tenantId: string, record: SessionRecord): Promise<void> {
    if (record.retainUntil <= Date.now()) return
    const writes: Array<Promise<unknown>> = [
      this.#client.set(
        this.#keys.idPointer(tenantId, record.id),
        JSON.stringify(record.userId),
        'PXAT',
        record.retainUntil,
      ),
    ]
    if (record.key !== null) {
      writes.push(
        this.#client.set(
          this.#keys.keyPointer(tenantId, record.key),
          JSON.stringify(record.userId),
          'PXAT',
          record.retainUntil,
        ),
      )
    }
    await Promise.all(writes)
  }

  get(tenantId: string, id: string): Promise<SessionRecord | null> {
    const cached = this.#cache.get(tenantId, id)
    if (cached !== undefined) return Promise.resolve(cached)
    return this.#cache.shared('id', tenantId, id, () => this.#readById(tenantId, id))
  }

  #readById(tenantId: string, id: string): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const userId = await this.#owner(tenantId, id)
      if (userId === null) return null
      const [fields, marker] = (await scripts.read.run(this.#client, this.#keys.userIndex(tenantId, userId), [
        this.#keys.userBase(tenantId, userId),
        encodeKeyPart(id),
      ])) as [unknown, unknown]
      const record = underMarker(decodeFields(fields), marker)
      if (record !== null) this.#cache.put(tenantId, record, epoch)
      return record
    })
  }

  peekByKey(tenantId: string, key: string): SessionRecord | undefined {
    return this.#cache.getByKey(tenantId, key) ?? undefined
  }

  getByKey(tenantId: string, key: string): Promise<SessionRecord | null> {
    const cached = this.#cache.getByKey(tenantId, key)
    if (cached !== undefined) return Promise.resolve(cached)
    return this.#cache.shared('key', tenantId, key, () => this.#readByKey(tenantId, key))
  }

  #readByKey(tenantId: string, key: string): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const userId = readPointer(await this.#client.get(this.#keys.keyPointer(tenantId, key)))
      if (userId === null) return null
      const [fields, marker] = (await scripts.getByBind.run(
        this.#client,
        this.#keys.userIndex(tenantId, userId),
        [this.#keys.userBase(tenantId, userId), encodeKeyPart(key)],
      )) as [unknown, unknown]
      const record = underMarker(decodeFields(fields), marker)
      if (record !== null) this.#cache.put(tenantId, record, epoch)
      return record
    })
  }

  create(
    tenantId: string,
    record: SessionRecord,
    limits: SessionLimits = DEFAULT_LIMITS,
  ): Promise<{ record: SessionRecord; created: boolean; revoked?: string[] }> {
    return this.#run(async () => {
      checkLimits(limits)
      const epoch = this.#cache.epoch
      const stored: SessionRecord = { ...record, tenantId }
      const bind = record.key === null ? '' : encodeKeyPart(record.key)
      const [status, fields, revoked, marker] = (await scripts.create.run(
        this.#client,
        this.#keys.userIndex(tenantId, record.userId),
        [
          this.#keys.userBase(tenantId, record.userId),
          encodeKeyPart(record.id),
          bind,
          Date.now(),
          record.issuedAt,
          record.retainUntil,
          Math.min(record.expiresAt, record.absoluteExpiresAt),
          record.createdAt,
          limits.maxPerUser,
          limits.atCap,
          this.#keys.channel,
          ...encodeFields(stored, bind),
        ],
      )) as [number, unknown, string[], unknown]
      if (status === -1) throw new CoreSDKError('session_limit')
      const result = underMarker(decodeFields(fields), marker)
      if (result === null) throw new Error('The create script returned no record.')
      // Cached at once, in the same turn as the sessions the cap revoked (known here before their messages come
      // back), and only when no revocation arrived while the script ran: one could have been of this session.
      const unchanged = this.#cache.epoch === epoch
      const capped: string[] = []
      for (const message of revoked) {
        const event = parseRevocationEvent(message)
        if (event === null) continue
        this.#cache.apply(event)
        if (event.kind === 'session') capped.push(event.sessionId)
      }
      if (unchanged || result.revokedAt !== null) this.#cache.put(tenantId, result, this.#cache.epoch)
      // The pointers are written after the record: a reader that misses them finds nothing and creates, which the
      // script answers with the existing record; a create that failed here is repaired by the next one.
      await this.#writePointers(tenantId, result)
      return capped.length > 0
        ? { record: result, created: status === 1, revoked: capped }
        : { record: result, created: status === 1 }
    })
  }

  update(tenantId: string, id: string, patch: SessionPatch): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const userId = await this.#owner(tenantId, id)
      if (userId === null) return null
      const reply = await scripts.update.run(this.#client, this.#keys.userIndex(tenantId, userId), [
        this.#keys.userBase(tenantId, userId),
        encodeKeyPart(id),
        Date.now(),
        ...patchFields(patch),
      ])
      const record = decodeFields(reply)
      if (record === null) return null
      if (patch.retainUntil !== undefined) await this.#writePointers(tenantId, record)
      this.#cache.put(tenantId, record, epoch)
      return record
    })
  }

  revoke(tenantId: string, id: string, at: number): Promise<SessionRecord | null> {
    return this.#run(async () => {
      if (!Number.isFinite(at)) throw new TypeError('revoke() takes a time in ms.')
      const userId = await this.#owner(tenantId, id)
      if (userId === null) return null
      const reply = await scripts.revoke.run(this.#client, this.#keys.userIndex(tenantId, userId), [
        this.#keys.userBase(tenantId, userId),
        encodeKeyPart(id),
        Math.floor(at),
        this.#keys.channel,
      ])
      const record = decodeFields(reply)
      if (record === null) return null
      // Revocation is final, so the revoked record is cached at once, without waiting for the message to return.
      this.#cache.apply({
        kind: 'session',
        tenantId,
        sessionId: id,
        key: record.key,
        userId,
        at: record.revokedAt ?? at,
      })
      this.#cache.put(tenantId, record, this.#cache.epoch)
      return record
    })
  }

  revokeAllForUser(tenantId: string, userId: string, at: number, retainFor: number): Promise<string[]> {
    return this.#run(async () => {
      if (!Number.isFinite(at) || !Number.isFinite(retainFor))
        throw new TypeError('revokeAllForUser() takes times in ms.')
      const when = Math.floor(at)
      const event: RevocationEvent = { kind: 'user', tenantId, userId, at: when }
      const base = this.#keys.userBase(tenantId, userId)
      const keep = Math.max(1, Math.ceil(retainFor))
      const ids: string[] = []
      // The first page sets the marker, so from then on every session issued before it reads as revoked (see
      // underMarker); each page revokes at most PAGE_SIZE indexed sessions, so no one script holds Redis long.
      for (let page = 0; page < MAX_PAGES; page++) {
        const [revoked, remaining] = (await scripts.revokeAll.run(
          this.#client,
          this.#keys.userIndex(tenantId, userId),
          [base, when, keep, Date.now(), this.#keys.channel, JSON.stringify(event), page === 0 ? 1 : 0],
        )) as [string[], number]
        for (const id of revoked) ids.push(JSON.parse(id) as string)
        if (remaining === 0) break
      }
      this.#cache.apply(event)
      return ids
    })
  }

  revokeOthersForUser(tenantId: string, userId: string, keepId: string, at: number): Promise<string[]> {
    return this.#run(async () => {
      if (!Number.isFinite(at)) throw new TypeError('revokeOthersForUser() takes a time in ms.')
      const when = Math.floor(at)
      const base = this.#keys.userBase(tenantId, userId)
      const ids: string[] = []
      // Each page is one script; the loop ends only once no active session but the kept one is left, so a session
      // created between two pages is revoked by the next.
      for (let page = 0; page < MAX_PAGES; page++) {
        const [revoked, remaining] = (await scripts.revokeOthers.run(
          this.#client,
          this.#keys.userIndex(tenantId, userId),
          [base, encodeKeyPart(keepId), when, Date.now(), this.#keys.channel],
        )) as [string[], number]
        for (const encoded of revoked) ids.push(JSON.parse(encoded) as string)
        if (remaining === 0) break
      }
      // Known here at once, without waiting for the messages to come back.
      this.#cache.forgetUser(tenantId, userId)
      return ids
    })
  }

  getUserRevokedAt(tenantId: string, userId: string): Promise<number | null> {
    const cached = this.#cache.getMarker(tenantId, userId)
    if (cached !== undefined) return Promise.resolve(cached)
    return this.#cache.shared('marker', tenantId, userId, () => this.#readMarker(tenantId, userId))
  }

  #readMarker(tenantId: string, userId: string): Promise<number | null> {
    return this.#run(async () => {
      const epoch = this.#cache.epoch
      const value = await this.#client.get(this.#keys.userMarker(tenantId, userId))
      const at = value === null ? null : Number(value)
      this.#cache.putMarker(tenantId, userId, at, epoch)
      return at
    })
  }

  listForUser(tenantId: string, userId: string): Promise<SessionRecord[]> {
    return this.#run(async () => {
      const byId = new Map<string, SessionRecord>()
      let marker: unknown = null
      for (let page = 0; page < MAX_PAGES; page++) {
        const [active, ended, pageMarker, count] = (await scripts.list.run(
          this.#client,
          this.#keys.userIndex(tenantId, userId),
          [this.#keys.userBase(tenantId, userId), Date.now(), page * PAGE_SIZE],
        )) as [unknown[], unknown[], unknown, number]
        if (page === 0) marker = pageMarker
        for (const fields of [...ended, ...active]) {
          const record = underMarker(decodeFields(fields), marker)
          if (record !== null) byId.set(record.id, record)
        }
        if (count < PAGE_SIZE) break
      }
      return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt)
    })
  }

  onRevocation(listener: (event: RevocationEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  ready(timeoutMs: number = this.#timeout * 5): Promise<void> {
    if (this.#cache.stats().trusted) return Promise.resolve()
    if (this.#subscriber === null)
      return Promise.reject(new Error('This store has no revocation subscriber.'))
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(wake)
        reject(
          new CoreSDKError(
            'store_unavailable',
            `The revocation channel was not subscribed within ${timeoutMs} ms.`,
          ),
        )
      }, timeoutMs)
      this.#waiters.add(wake)
    })
  }

  stats(): SessionCacheStats {
    return this.#cache.stats()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.clear()
    this.#cache.distrust()
    for (const detach of this.#detach) detach()
    const subscriber = this.#subscriber
    // A subscriber passed in may serve other stores on the same channel: it stays subscribed.
    if (subscriber !== null && this.#ownsSubscriber) {
      subscriber.on('error', () => {})
      subscriber.disconnect()
    }
  }

  acquireRefreshLock(tenantId: string, id: string, ttl: number): Promise<RefreshLockAnswer> {
    return this.#run(async () => {
      if (!Number.isFinite(ttl) || ttl < 1) throw new TypeError('acquireRefreshLock() takes a ttl in ms.')
      const epoch = this.#cache.epoch
      const userId = await this.#owner(tenantId, id)
      if (userId === null) return { record: null, fence: null }
      const [fence, fields, marker] = (await scripts.acquireRefresh.run(
        this.#client,
        this.#keys.userIndex(tenantId, userId),
        [this.#keys.userBase(tenantId, userId), encodeKeyPart(id), Math.ceil(ttl)],
      )) as [number | null, unknown, unknown]
      const record = underMarker(decodeFields(fields), marker)
      // A waiter's answer is the holder's rotation: later reads on this instance must not find an older copy.
      if (record !== null) this.#cache.put(tenantId, record, epoch)
      return { record, fence: fence ?? null }
    })
  }

  releaseRefreshLock(
    tenantId: string,
    id: string,
    fence: number,
    patch?: SessionPatch,
  ): Promise<RefreshReleaseAnswer> {
    return this.#run(async () => {
      if (!Number.isSafeInteger(fence))
        throw new TypeError('releaseRefreshLock() takes the fence it was given.')
      const epoch = this.#cache.epoch
      const userId = await this.#owner(tenantId, id)
      if (userId === null) return { record: null, written: false }
      const [written, fields, marker] = (await scripts.releaseRefresh.run(
        this.#client,
        this.#keys.userIndex(tenantId, userId),
        [
          this.#keys.userBase(tenantId, userId),
          encodeKeyPart(id),
          fence,
          Date.now(),
          ...(patch === undefined ? [] : patchFields(patch)),
        ],
      )) as [number, unknown, unknown]
      const record = underMarker(decodeFields(fields), marker)
      if (record === null) return { record: null, written: false }
      if (patch?.retainUntil !== undefined && written === 1) await this.#writePointers(tenantId, record)
      // What this instance reads next is the rotation just written, not a copy cached before it.
      this.#cache.put(tenantId, record, epoch)
      return { record, written: written === 1 }
    })
  }

  claimOnce(tenantId: string, key: string, expiresAt: number): Promise<boolean> {
    if (expiresAt <= Date.now()) return Promise.resolve(true)
    // SET NX is the claim itself: one command, atomic on every node, expiring with the claim (PXAT).
    return this.#run(
      async () =>
        (await this.#client.set(this.#keys.once(tenantId, key), '1', 'PXAT', expiresAt, 'NX')) === 'OK',
    )
  }
}

/**
 * A session store in Redis (single node, Sentinel or Cluster through ioredis), with a per-instance cache kept
 * coherent by revocation messages on pub/sub.
 * @example
 * import { Redis } from 'ioredis'
 * const client = new Redis(process.env.REDIS_URL, redisClientOptions())
 * const sdk = new CoreSDKClient({ sessions: { store: createRedisSessionStore({ client }) }, … })
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): RedisSessionStore {
  return new RedisSessionStoreImpl(options)
}
