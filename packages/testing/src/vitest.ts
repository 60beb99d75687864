// The conformance suites and their assertions, for Vitest (a peer dependency of this entry only). Tokens, the JWKS
// server and the services are in the package's main entry, which works without any test runner.
export type {
  DescribeAdapterOptions,
  StartAdapter,
  SuiteClient,
  SuiteClientRequest,
  SuiteClients,
} from './describe-adapter.ts'
export {
  describeAdapter,
  describeExampleApp,
  embeddedSuiteClients,
  expectProblem,
  expectThrownProblems,
} from './describe-adapter.ts'
export type { AuthRoutesApp, OidcModule, StartAuthApp } from './describe-auth-routes.ts'
export { describeAuthRoutes } from './describe-auth-routes.ts'
export type { StartRoleApp } from './describe-roles.ts'
export { describeRoleChecks, expectForbidden } from './describe-roles.ts'
export type {
  DescribeSessionStoreOptions,
  SessionStoreFactory,
  SessionStoreHarness,
} from './describe-session-store.ts'
export { describeSessionStore } from './describe-session-store.ts'
export type { DocsSnippetOptions } from './docs-snippet.ts'
export { describeDocsSnippet } from './docs-snippet.ts'
export { makeSessionRecord } from './records.ts'
