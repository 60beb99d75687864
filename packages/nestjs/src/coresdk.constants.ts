import type { Claims, CoreSDKClient, SDKConfig, Session } from '@coresdk/core'
import type { AdapterKitOptions, PublicPath, RequestAuth } from '@coresdk/core/adapter'

/** The injection token of the `CoreSDKClient` the module provides: `@Inject(CORESDK_CLIENT) sdk: CoreSDKClient`. */
export const CORESDK_CLIENT = Symbol.for('@coresdk/nestjs:client')

/** The injection token of the module's resolved {@link CoreSdkModuleOptions}. */
export const CORESDK_MODULE_OPTIONS = Symbol.for('@coresdk/nestjs:options')

/** The metadata key `@Public()` sets. */
/** The injection token of the adapter kit the guard and the service share. */
export const CORESDK_KIT = Symbol.for('@coresdk/nestjs:kit')

export const CORESDK_PUBLIC = 'coresdk:public'

/** The metadata key `@Roles()` sets: the role requirement of a handler or controller. */
export const CORESDK_ROLES = 'coresdk:roles'

/** What `CoreSdkModule.forRoot()` (or the `forRootAsync` factory) takes: a client, or a configuration to build one from. */
export interface CoreSdkModuleOptions extends AdapterKitOptions {
  /** The client to use; you own it and close it. Give this or `config`. */
  sdk?: CoreSDKClient
  /** A configuration the module builds its own client from (closed on application shutdown). */
  config?: SDKConfig
  /** Let requests without any credential through as anonymous (`coresdk_user: null`); a bad credential is still refused. @default false */
  optional?: boolean
  /** Paths that skip authentication: exact (`/health`) or prefixes (`/public/*`), matched on the raw request path. @default [] */
  publicPaths?: readonly PublicPath[]
}

/** The request as the guard leaves it, on Nest's Express and Fastify platforms alike. */
export interface CoreSdkRequest {
  headers: Record<string, string | string[] | undefined>
  url?: string
  originalUrl?: string
  /** The verified claims of the caller, or null when anonymous (optional authentication, `@Public()`). */
  coresdk?: RequestAuth
  coresdk_user?: Claims | null
  /** The caller's session; null when anonymous or when the store was unreachable (`failMode: 'open'`). */
  coresdk_session?: Session | null
  /** True when the request passed without the session check because the store was unreachable. */
  coresdk_degraded?: boolean
}
