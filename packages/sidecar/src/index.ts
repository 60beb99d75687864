export type { TenantKey } from './access.ts'
export {
  isLoopbackHost,
  KeyRing,
  MIN_SECRET_BYTES,
  parseTenants,
  SIDECAR_KEY_HEADER,
  SIDECAR_TENANT_HEADER,
} from './access.ts'
export type { CliIo } from './cli.ts'
export { runCli } from './cli.ts'
export { sessionStoreFromEnv, sidecarOptionsFromEnv } from './env.ts'
export { sessionToWire } from './http.ts'
export type { SidecarLogger } from './logger.ts'
export { stdoutLogger } from './logger.ts'
export type { SidecarServer, SidecarServerOptions } from './server.ts'
export { createSidecarServer } from './server.ts'
