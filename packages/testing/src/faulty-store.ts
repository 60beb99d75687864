import { CoreSDKError } from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'

/**
 * How a {@link faultyStore} behaves: pass through, answer late, fail as unreachable (`failing`: connection refused),
 * fail as broken (`broken`: a script error or a bug, which never counts as unreachable), or never answer (a black hole).
 */
export type FaultMode = 'ok' | 'slow' | 'failing' | 'broken' | 'silent'

/** Options of a fault mode. */
export interface FaultOptions {
  /** How long `slow` waits before passing the call through, in ms. @default 2000 */
  delayMs?: number
  /** The message of the error `failing` and `broken` reject with. @default 'store unavailable (injected fault)' */
  message?: string
}

/** A {@link SessionStore} whose behaviour a test switches at run time. */
export interface FaultyStore extends SessionStore {
  /** The current mode. */
  readonly mode: FaultMode
  /** How many calls were made to the data methods (reads and writes), whatever the mode. */
  readonly calls: number
  /** Switches the mode; calls already waiting keep the mode they started with. */
  setMode(mode: FaultMode, options?: FaultOptions): void
  /** How many calls a `silent` store swallowed (they never settle). */
  readonly pending: number
}

const DATA_METHODS = [
  'get',
  'getByKey',
  'create',
  'update',
  'revoke',
  'revokeAllForUser',
  'getUserRevokedAt',
  'listForUser',
] as const

/**
 * Wraps a store so that a test can make it slow, failing or silent at run time (`onRevocation` and `close` always
 * pass through).
 * @example
 * const store = faultyStore(new MemorySessionStore())
 * store.setMode('silent') // every call now hangs; the client's storeTimeout must answer instead
 */
export function faultyStore(
  inner: SessionStore,
  initial: { mode?: FaultMode } & FaultOptions = {},
): FaultyStore {
  let mode: FaultMode = initial.mode ?? 'ok'
  let delayMs = initial.delayMs ?? 2000
  let message = initial.message ?? 'store unavailable (injected fault)'
  let calls = 0
  let pending = 0

  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      calls++
      switch (mode) {
        case 'ok':
          return call(...args)
        case 'failing':
          return Promise.reject(new CoreSDKError('store_unavailable', message))
        case 'broken':
          return Promise.reject(new TypeError(message))
        case 'silent':
          pending++
          return new Promise<R>(() => {})
        case 'slow': {
          const wait = delayMs
          return new Promise<void>((resolve) => setTimeout(resolve, wait)).then(() => call(...args))
        }
      }
    }

  const store = {
    get mode() {
      return mode
    },
    get calls() {
      return calls
    },
    get pending() {
      return pending
    },
    setMode(next: FaultMode, options: FaultOptions = {}) {
      mode = next
      if (options.delayMs !== undefined) delayMs = options.delayMs
      if (options.message !== undefined) message = options.message
    },
  } as FaultyStore

  const methods = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  for (const name of DATA_METHODS) {
    const method = inner[name] as (...args: unknown[]) => Promise<unknown>
    methods[name] = wrap((...args: unknown[]) => method.apply(inner, args))
  }
  // Optional methods stay optional: the wrapper has one only when the store does.
  if (inner.revokeOthersForUser) {
    const method = inner.revokeOthersForUser
    store.revokeOthersForUser = wrap((...args: Parameters<typeof method>) => method.apply(inner, args))
  }
  if (inner.onRevocation) {
    const onRevocation = inner.onRevocation.bind(inner)
    store.onRevocation = (listener) => onRevocation(listener)
  }
  if (inner.close) {
    const close = inner.close.bind(inner)
    store.close = () => close()
  }
  return store
}
