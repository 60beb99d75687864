export type { LogoutTokenClaims, ReplayCache, VerifyLogoutTokenOptions } from './backchannel-logout.ts'
export {
  BACKCHANNEL_LOGOUT_EVENT,
  createMemoryReplayCache,
  LogoutTokenError,
  verifyLogoutToken,
} from './backchannel-logout.ts'
export type {
  LogoutHandlerOptions,
  OidcHandlers,
  OidcHandlersOptions,
  OidcHttpRequest,
  OidcHttpResponse,
  OidcRoute,
} from './handlers.ts'
export { createOidcHandlers, oidcRoutes } from './handlers.ts'
export type {
  BackchannelLogoutRequest,
  BackchannelLogoutResult,
  CallbackRequest,
  CallbackResult,
  FreshTokensOptions,
  LoginOptions,
  LoginResult,
  LogoutUrlOptions,
  OidcClient,
  OidcClientOptions,
  OidcProviderMetadata,
} from './oidc-client.ts'
export { createOidcClient } from './oidc-client.ts'
export type { OidcRefresher } from './refresher.ts'
export { createOidcRefresher } from './refresher.ts'
