// What adapter authors need: the kit (one call per request), the glue every adapter shares, and the problems.
export type {
  AdapterHelpers,
  AdapterIO,
  AdapterLogout,
  AdapterMiddleware,
  Gate,
  NodeRequestLike,
  RequireRoles,
} from './adapter-glue.ts'
export { defineAdapter, nodeRequest, nodeRouteRequest } from './adapter-glue.ts'
export type {
  AdapterKit,
  AdapterKitOptions,
  AdapterRequest,
  AdapterRoute,
  HandleResult,
  RequestAuth,
} from './adapter-kit.ts'
export { createAdapterKit } from './adapter-kit.ts'
export type { AuthRouteRequest } from './auth-route.ts'
export { problemResponse, runAuthRoute } from './auth-route.ts'
export type { CookieScope } from './config.ts'
export { cookieNameProblem, cookiePrefixFor } from './config.ts'
export { keyId } from './crypto.ts'
export type { LogoutOptions, LogoutResult } from './engine.ts'
export type { ProblemOptions } from './errors.ts'
export { CoreSDKError, problemFor, problemForReason, problemFromError, problemType } from './errors.ts'
export type { PublicPath } from './paths.ts'
export { isPublicPath } from './paths.ts'
export type { RoleRequirement } from './rbac.ts'
export { readRoles, roleRequirement } from './rbac.ts'
export type { RouteHandler, RouteRequest, RouteResponse } from './route.ts'
export type { HttpProblem } from './types.ts'
