/**
 * Who caused a lifecycle change:
 * - `user`: the signed-in user (a login, a request that started their session, a logout helper);
 * - `admin`: an operator, through the sidecar's HTTP API or the `coresdk` CLI;
 * - `idp`: the identity provider, through back-channel logout;
 * - `service`: the application's own code calling `sdk.sessions()` (the default of those calls);
 * - `system`: CoreSDK itself (the per-user session cap, a refresh token the provider refused).
 */
export type EventActor = 'user' | 'admin' | 'idp' | 'service' | 'system'

/** Why a session was revoked: asked for (by the actor), or by a rule of CoreSDK's. */
export type RevokeReason = 'requested' | 'session_limit' | 'refresh_token_invalid'

/** What every lifecycle event carries. It never holds a token, a secret or a claim value beyond the user id. */
export interface LifecycleEventBase {
  /** When the change happened, in ms since the epoch. */
  at: number
  tenantId: string
  actor: EventActor
}

/** A session was stored: by a login (`sessions().create()`), or on the first request of a bearer token. */
export interface SessionCreatedEvent extends LifecycleEventBase {
  type: 'session.created'
  sessionId: string
  userId: string
  origin: 'token' | 'login'
}

/**
 * A session was renewed: by `sessions().refresh()` (`rotated` when its OAuth tokens were exchanged), or by a login
 * that continued the provider session it is bound to (`via: 'login'`: new claims, tokens and cookie secret).
 */
export interface SessionRefreshedEvent extends LifecycleEventBase {
  type: 'session.refreshed'
  sessionId: string
  userId: string
  via: 'refresh' | 'login'
  rotated: boolean
}

/** One session was revoked (a revoke-all or revoke-others reports `user.sessions_revoked` instead). */
export interface SessionRevokedEvent extends LifecycleEventBase {
  type: 'session.revoked'
  sessionId: string
  userId: string
  reason: RevokeReason
}

/**
 * A user's sessions were revoked at once: all of them (with every token issued at or before `at`), or all but
 * `keptSessionId`.
 */
export interface UserSessionsRevokedEvent extends LifecycleEventBase {
  type: 'user.sessions_revoked'
  userId: string
  scope: 'all' | 'others'
  /** The session left active by a revoke-others; null for a revoke-all. */
  keptSessionId: string | null
  /** The sessions this call revoked. */
  sessionIds: string[]
}

/** Requests began to pass without the session check: the store (or the sidecar) is unreachable and `failMode` is open. */
export interface AuthDegradedEvent extends LifecycleEventBase {
  type: 'auth.degraded'
  reason: 'store_unavailable' | 'sidecar_unavailable'
}

/** Every lifecycle event, by name. */
export interface LifecycleEvents {
  'session.created': SessionCreatedEvent
  'session.refreshed': SessionRefreshedEvent
  'session.revoked': SessionRevokedEvent
  'user.sessions_revoked': UserSessionsRevokedEvent
  'auth.degraded': AuthDegradedEvent
}

/** The name of a lifecycle event. */
export type LifecycleEventType = keyof LifecycleEvents

/** Any lifecycle event. */
export type LifecycleEvent = LifecycleEvents[LifecycleEventType]

/** A listener of one lifecycle event; what it returns (a promise too) is ignored. */
export type LifecycleListener<T extends LifecycleEventType> = (event: LifecycleEvents[T]) => unknown

/** The names of every lifecycle event. */
export const lifecycleEventTypes: readonly LifecycleEventType[] = Object.freeze([
  'session.created',
  'session.refreshed',
  'session.revoked',
  'user.sessions_revoked',
  'auth.degraded',
])

const ACTORS: ReadonlySet<string> = new Set<EventActor>(['user', 'admin', 'idp', 'service', 'system'])

/** Whether a value is an {@link EventActor}. */
export function isEventActor(value: unknown): value is EventActor {
  return typeof value === 'string' && ACTORS.has(value)
}

type AnyListener = (event: LifecycleEvent) => unknown

/**
 * The client's lifecycle events: each change is emitted once, where it happens, and its listeners run after it, on a
 * microtask. A listener that throws, rejects or never settles cannot break or delay the operation that emitted it.
 */
export class LifecycleEmitter {
  readonly #listeners = new Map<LifecycleEventType, Set<AnyListener>>()

  on<T extends LifecycleEventType>(type: T, listener: LifecycleListener<T>): () => void {
    let set = this.#listeners.get(type)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(type, set)
    }
    // Wrapped, so that one function subscribed twice is two subscriptions, each with its own unsubscribe.
    const entry: AnyListener = (event) => listener(event as LifecycleEvents[T])
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  /** Emits an event, frozen so that no listener can change what the others see. */
  emit(event: LifecycleEvent): void {
    const set = this.#listeners.get(event.type)
    if (set === undefined || set.size === 0) return
    if (event.type === 'user.sessions_revoked') Object.freeze(event.sessionIds)
    Object.freeze(event)
    for (const listener of set) queueMicrotask(() => run(listener, event))
  }

  clear(): void {
    this.#listeners.clear()
  }
}

function run(listener: AnyListener, event: LifecycleEvent): void {
  try {
    const result = listener(event)
    // A rejected promise would otherwise be an unhandled rejection, which ends a Node process.
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as Promise<unknown>).then === 'function'
    )
      (result as Promise<unknown>).then(undefined, ignore)
  } catch {
    // A listener's failure is its own: the change it heard of stands.
  }
}

function ignore(): void {}

/** Reads the events a sidecar sent with an answer, keeping only the fields each event type defines. */
export function eventsFromWire(value: unknown): LifecycleEvent[] {
  if (!Array.isArray(value)) return []
  const events: LifecycleEvent[] = []
  for (const item of value) {
    const event = eventFromWire(item)
    if (event !== null) events.push(event)
  }
  return events
}

function eventFromWire(value: unknown): LifecycleEvent | null {
  if (value === null || typeof value !== 'object') return null
  const e = value as Record<string, unknown>
  if (typeof e.at !== 'number' || typeof e.tenantId !== 'string' || !isEventActor(e.actor)) return null
  const base = { at: e.at, tenantId: e.tenantId, actor: e.actor }
  if (e.type === 'auth.degraded') {
    const reason = e.reason === 'store_unavailable' ? 'store_unavailable' : 'sidecar_unavailable'
    return { type: e.type, ...base, reason }
  }
  if (typeof e.userId !== 'string') return null
  const user = { ...base, userId: e.userId }
  if (e.type === 'user.sessions_revoked') {
    if (!Array.isArray(e.sessionIds) || !e.sessionIds.every((id) => typeof id === 'string')) return null
    const keptSessionId = typeof e.keptSessionId === 'string' ? e.keptSessionId : null
    return {
      type: e.type,
      ...user,
      scope: keptSessionId === null ? 'all' : 'others',
      keptSessionId,
      sessionIds: [...e.sessionIds],
    }
  }
  if (typeof e.sessionId !== 'string') return null
  const session = { ...user, sessionId: e.sessionId }
  switch (e.type) {
    case 'session.created':
      return { type: e.type, ...session, origin: e.origin === 'token' ? 'token' : 'login' }
    case 'session.refreshed':
      return {
        type: e.type,
        ...session,
        via: e.via === 'login' ? 'login' : 'refresh',
        rotated: e.rotated === true,
      }
    case 'session.revoked': {
      const reason =
        e.reason === 'session_limit' || e.reason === 'refresh_token_invalid' ? e.reason : 'requested'
      return { type: e.type, ...session, reason }
    }
    default:
      return null
  }
}
