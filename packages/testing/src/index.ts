// The test kit without a test runner: tokens, a JWKS endpoint, services, a fault-injecting store, an HTTP helper and an
// OpenID provider (oidc-provider, an optional peer dependency loaded only when one is started) with a browser.
// The conformance suites, which need Vitest, are in `@coresdk/testing/vitest` (./vitest.ts).
export type { FaultMode, FaultOptions, FaultyStore } from './faulty-store.ts'
export { faultyStore } from './faulty-store.ts'
export type { AdapterServer, RecordedResponse } from './http.ts'
export { rawRequest } from './http.ts'
export type { JwksDownMode, JwksServer, JwksServerKey, JwksServerOptions, ServedJwk } from './jwks-server.ts'
export { startJwksServer } from './jwks-server.ts'
export type {
  MintOptions,
  TestAlgorithm,
  TestIssuerJwtOptions,
  TestIssuerOptions,
  TestJwk,
  TestKeys,
} from './mint.ts'
export { craftToken, createTestKeys, mintToken, TestIssuer } from './mint.ts'
export type { TestOidcClient, TestOidcProvider } from './oidc-provider.ts'
export { startOidcProvider, TestBrowser } from './oidc-provider.ts'
export { makeSessionRecord } from './records.ts'
export type {
  PostgresServerProcess,
  PostgresService,
  RedisClusterService,
  RedisServerProcess,
  RedisService,
} from './services.ts'
export {
  ensurePostgres,
  ensureRedis,
  freePort,
  pingPostgres,
  pingRedis,
  postgresStartup,
  redisCommand,
  requireServices,
  startPostgresServer,
  startRedisCluster,
  startRedisServer,
} from './services.ts'
