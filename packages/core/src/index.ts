export { CoreSDKClient } from './client.ts'
export type { ClientConfig } from './client-config.ts'
export type { ClientHints, TrustProxy, UserAgentInfo } from './client-device.ts'
export { parseUserAgent } from './client-device.ts'
export type {
  CookieOptions,
  EngineMode,
  JwtAlgorithm,
  JwtOptions,
  PublicJwk,
  SDKConfig,
  SessionOptions,
} from './config.ts'
export type {
  AuthApi,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  CreateSessionOptions,
  ListSessionsOptions,
  LogoutOptions,
  LogoutRequest,
  LogoutResult,
  RevokeOptions,
  SessionsApi,
} from './engine.ts'
export type { CoreSDKErrorCode } from './errors.ts'
export { CoreSDKError } from './errors.ts'
export type {
  AuthDegradedEvent,
  EventActor,
  LifecycleEvent,
  LifecycleEventBase,
  LifecycleEvents,
  LifecycleEventType,
  LifecycleListener,
  RevokeReason,
  SessionCreatedEvent,
  SessionRefreshedEvent,
  SessionRevokedEvent,
  UserSessionsRevokedEvent,
} from './events.ts'
export { isEventActor, lifecycleEventTypes } from './events.ts'
export type { MemorySessionStoreOptions } from './memory-session-store.ts'
export { MemorySessionStore } from './memory-session-store.ts'
export type { RbacApi, RoleDecision, RoleRequirement } from './rbac.ts'
export { CreatedSession, Session } from './session.ts'
export type {
  ObservableResult,
  OpenTelemetryApi,
  TelemetryAttributes,
  TelemetryMeter,
  TelemetryOptions,
  TelemetrySpan,
  TelemetryTracer,
} from './telemetry.ts'
export type {
  AuthDecision,
  AuthReason,
  Claims,
  CoreSdkUserClaims,
  HttpProblem,
  ProblemBody,
  SessionTokens,
  TokenRefresher,
  TokenSet,
} from './types.ts'
