/**
 * `@coresdk/core/sidecar-protocol`: the wire protocol between core's sidecar mode and `@coresdk/sidecar` (paths,
 * headers, the wire session and its codec). Internal to CoreSDK: it exists so that the client and the sidecar
 * share one definition, and it may change in any release; applications and adapters never need it.
 */
export { isValidTenantId } from './config.ts'
export type { SidecarRoute, WireSession } from './sidecar-protocol.ts'
export {
  SIDECAR_ACTOR_HEADER,
  SIDECAR_KEY_HEADER,
  SIDECAR_TENANT_HEADER,
  sessionToWire,
  sidecarPaths,
  sidecarRoutes,
} from './sidecar-protocol.ts'
