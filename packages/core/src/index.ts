export type { BoundedMapOptions } from './bounded-map.ts'
export { BoundedMap } from './bounded-map.ts'
export { CoreSDKClient } from './client.ts'
export type { ClientHints, TrustProxy, UserAgentInfo } from './client-device.ts'
export { parseUserAgent } from './client-device.ts'
export type {
  CookieOptions,
  EngineMode,
  JwtAlgorithm,
  JwtOptions,
  PublicJwk,
  ResolvedConfig,
  SDKConfig,
  SessionOptions,
} from './config.ts'
export { isValidTenantId, resolveConfig } from './config.ts'
export { isIdentifier, isSessionId, newSessionId } from './crypto.ts'
export { withDeadline } from './deadline.ts'
export type {
  AuthApi,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  CreateSessionOptions,
  ListSessionsOptions,
  LogoutRequest,
  LogoutResult,
  SessionsApi,
} from './engine.ts'
export type { CoreSDKErrorCode, ProblemOptions } from './errors.ts'
export {
  CoreSDKError,
  isErrorCode,
  problemFor,
  problemForReason,
  problemFromError,
  problemType,
  RETRY_AFTER_SECONDS,
} from './errors.ts'
export type { MemorySessionStoreOptions } from './memory-session-store.ts'
export { MemorySessionStore } from './memory-session-store.ts'
export type { PublicPath } from './paths.ts'
export { isPublicPath } from './paths.ts'
export type { RbacApi, RoleDecision, RoleRequirement } from './rbac.ts'
export { readRoles, roleRequirement } from './rbac.ts'
export type { RouteHandler, RouteRequest, RouteResponse } from './route.ts'
export { CreatedSession, isRecordActive, Session } from './session.ts'
export type { SidecarRoute, WireSession } from './sidecar-protocol.ts'
export {
  recordFromWire,
  SIDECAR_KEY_HEADER,
  SIDECAR_TENANT_HEADER,
  sessionToWire,
  sidecarPaths,
  sidecarRoutes,
} from './sidecar-protocol.ts'
export type {
  AuthDecision,
  AuthReason,
  Claims,
  CoreSdkUserClaims,
  HttpProblem,
  ProblemBody,
  RefreshLockAnswer,
  RefreshReleaseAnswer,
  RevocationEvent,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SessionTokens,
  TokenRefresher,
  TokenSet,
} from './types.ts'
