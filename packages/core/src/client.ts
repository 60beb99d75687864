import { type ResolvedConfig, resolveConfig, type SDKConfig } from './config.ts'
import { EmbeddedEngine } from './embedded-engine.ts'
import type {
  AuthApi,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  Engine,
  LogoutRequest,
  LogoutResult,
  SessionsApi,
} from './engine.ts'
import { createRbac, type RbacApi } from './rbac.ts'
import { SidecarEngine } from './sidecar-engine.ts'

/**
 * The CoreSDK client: token verification, sessions and the request pipeline every adapter calls.
 * Create one per service and pass it to the adapters.
 * @example
 * const sdk = new CoreSDKClient({
 *   tenantId: 'acme',
 *   serviceName: 'my-api',
 *   jwt: { issuer: 'https://id.example.com/', audience: 'my-api', algorithms: ['RS256'], jwksUri: 'https://id.example.com/jwks' },
 * })
 * app.use(coreSdkMiddleware(sdk))
 */
export class CoreSDKClient {
  /** The configuration after defaults and `CORESDK_*` environment variables were applied. */
  readonly config: ResolvedConfig
  readonly #engine: Engine
  readonly #rbac: RbacApi

  /** Throws a `CoreSDKError` (`invalid_config`) naming the setting when a value is missing or invalid. */
  constructor(config: SDKConfig = {}) {
    this.config = resolveConfig(config)
    this.#rbac = createRbac(this.config.rbac.rolesClaim, this.config.serviceName)
    this.#engine =
      this.config.mode === 'sidecar' ? new SidecarEngine(this.config) : new EmbeddedEngine(this.config)
  }

  /** Token verification (Phase 1). */
  auth(): AuthApi {
    return this.#engine.auth
  }

  /** Server-side sessions (Phase 2). */
  sessions(): SessionsApi {
    return this.#engine.sessions
  }

  /** Role checks on the authenticated user (RBAC). */
  rbac(): RbacApi {
    return this.#rbac
  }

  /**
   * The request pipeline: extract the bearer token or session cookie, verify it, map it to its session, apply
   * `failMode` when the store is unreachable. Never throws; every failure is a problem to answer with.
   */
  authenticate(request: AuthenticateRequest, options?: AuthenticateOptions): Promise<AuthenticateResult> {
    return this.#engine.authenticate(request, options)
  }

  /** Revokes the current session (or all the user's with `everywhere`) and returns the cookie-clearing headers. */
  logout(request: LogoutRequest): Promise<LogoutResult> {
    return this.#engine.logout(request)
  }

  /** Stops timers and closes the store (or the sidecar connection). */
  close(): Promise<void> {
    return this.#engine.close()
  }
}
