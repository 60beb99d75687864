/**
 * `@coresdk/core/store`: what a session store's author needs. The interface a store implements and the data it
 * keeps, the per-instance cache and revocation-message reader that stores with a fan-out channel share, and the
 * bounded map that keeps every cache bounded.
 * @example
 * import type { SessionStore } from '@coresdk/core/store'
 * export function createMyStore(): SessionStore { … }
 */
export type { BoundedMapOptions } from './bounded-map.ts'
export { BoundedMap } from './bounded-map.ts'
export { newSessionId } from './crypto.ts'
export { parseRevocationEvent } from './revocation-event.ts'
export type { SessionCacheOptions, SessionCacheStats } from './session-cache.ts'
export { SessionCache } from './session-cache.ts'
export type {
  RefreshLockAnswer,
  RefreshReleaseAnswer,
  RevocationEvent,
  SessionLimits,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from './types.ts'
