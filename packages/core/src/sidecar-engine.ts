import type { ResolvedConfig } from './config.ts'
import type { AuthApi, AuthenticateResult, Engine, LogoutResult, SessionsApi } from './engine.ts'
import { CoreSDKError } from './errors.ts'

/** The engine reached over HTTP at `sidecarAddr`. */
export class SidecarEngine implements Engine {
  readonly auth: AuthApi
  readonly sessions: SessionsApi

  constructor(_config: ResolvedConfig) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK configuration: mode="sidecar" is not available in this version.',
    )
  }

  authenticate(): Promise<AuthenticateResult> {
    throw new CoreSDKError('internal_error')
  }

  logout(): Promise<LogoutResult> {
    throw new CoreSDKError('internal_error')
  }

  async close(): Promise<void> {}
}
