import { CoreSDKError, type TokenRefresher, type TokenSet } from '@coresdk/core'
import type { SessionRecord } from '@coresdk/core/store'

/** A token refresher handed to core before the OIDC client exists, bound to it once discovery is done. */
export interface OidcRefresher extends TokenRefresher {
  /** Binds the refresher to an OIDC client (`createOidcClient({ refresher })` does it for you). */
  bind(client: { readonly tokenRefresher: TokenRefresher }): void
  /** Whether {@link OidcRefresher.bind} has run. */
  readonly bound: boolean
}

/**
 * Creates a refresher for `sessions.tokenRefresher`: the CoreSDK client takes it at construction, and the OIDC
 * client created afterwards binds it. A refresh before the binding fails with `refresh_failed` (503).
 * @example
 * const refresher = createOidcRefresher()
 * const sdk = new CoreSDKClient({ ..., sessions: { tokenRefresher: refresher } })
 * const oidc = await createOidcClient({ sdk, refresher, ... })
 */
export function createOidcRefresher(): OidcRefresher {
  let target: TokenRefresher | null = null
  return {
    get bound() {
      return target !== null
    },
    bind(client) {
      if (target !== null && target !== client.tokenRefresher) {
        throw new CoreSDKError(
          'invalid_config',
          'CoreSDK OIDC: this refresher is already bound to another OIDC client.',
        )
      }
      target = client.tokenRefresher
    },
    refresh(refreshToken: string, session: SessionRecord): Promise<TokenSet> {
      if (target === null) {
        return Promise.reject(
          new CoreSDKError('refresh_failed', 'The OIDC client is not ready: no refresher is bound yet.'),
        )
      }
      return target.refresh(refreshToken, session)
    },
  }
}
