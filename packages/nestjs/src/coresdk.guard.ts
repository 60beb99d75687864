import { type CoreSDKClient, isPublicPath, type RoleRequirement } from '@coresdk/core'
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import {
  CORESDK_CLIENT,
  CORESDK_MODULE_OPTIONS,
  CORESDK_PUBLIC,
  CORESDK_ROLES,
  type CoreSdkModuleOptions,
  type CoreSdkRequest,
} from './coresdk.constants.ts'
import { CoreSdkException } from './coresdk.exception.ts'
import { type AnyResponse, appendSetCookie } from './coresdk.response.ts'

const authenticated = new WeakSet<object>()

/**
 * Authenticates the request through `sdk.authenticate` and puts `coresdk_user`, `coresdk_session` and
 * `coresdk_degraded` on it; a refused request is answered with core's problem. Skips `@Public()` handlers, and
 * checks `@Roles()` (which make a handler never public).
 * Only HTTP is authenticated: any other context is refused unless `@Public()`.
 * @example
 * ```ts
 * @UseGuards(CoreSdkGuard)
 * @Controller('api')
 * export class MeController {}
 * ```
 */
@Injectable()
export class CoreSdkGuard implements CanActivate {
  constructor(
    @Inject(CORESDK_CLIENT) private readonly sdk: CoreSDKClient,
    @Inject(CORESDK_MODULE_OPTIONS) private readonly options: CoreSdkModuleOptions,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()]
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(CORESDK_PUBLIC, targets)
    const roles = this.reflector
      .getAll<Array<RoleRequirement | undefined>>(CORESDK_ROLES, targets)
      .filter((requirement) => requirement !== undefined)
    if (context.getType() !== 'http') return isPublic === true && roles.length === 0
    const http = context.switchToHttp()
    const req = http.getRequest<CoreSdkRequest>()
    // The guard may run twice (global and @UseGuards): authenticate once.
    if (authenticated.has(req)) return true
    req.coresdk_user = null
    req.coresdk_session = null
    req.coresdk_degraded = false
    const skip = isPublic || isPublicPath(req.originalUrl ?? req.url ?? '', this.options.publicPaths ?? [])
    if (skip && roles.length === 0) return true

    const { authorization, cookie, 'user-agent': userAgent } = req.headers
    const result = await this.sdk.authenticate(
      { authorization, cookie, userAgent: typeof userAgent === 'string' ? userAgent : undefined },
      { optional: this.options.optional ?? false },
    )
    appendSetCookie(http.getResponse<AnyResponse>(), result.setCookie)
    if (!result.ok) throw new CoreSdkException(result.problem)
    req.coresdk_user = result.user
    req.coresdk_session = result.session
    req.coresdk_degraded = result.degraded
    for (const requirement of roles) {
      const decision = this.sdk.rbac().check(result.user, requirement)
      if (!decision.allowed) throw new CoreSdkException(decision.problem)
    }
    authenticated.add(req)
    return true
  }
}
