import type { AdapterKit, RoleRequirement } from '@coresdk/core/adapter'
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import { CORESDK_KIT, CORESDK_PUBLIC, CORESDK_ROLES, type CoreSdkRequest } from './coresdk.constants.ts'
import { CoreSdkException } from './coresdk.exception.ts'
import { type AnyResponse, appendSetCookie } from './coresdk.response.ts'

interface PlatformRequest extends CoreSdkRequest {
  method: string
  rawHeaders?: string[]
  /** Fastify's request wraps Node's. */
  raw?: { url?: string; rawHeaders: string[] }
}

/**
 * Authenticates the request through core's adapter kit and puts the result on it (`coresdk`, `coresdk_user`,
 * `coresdk_session`, `coresdk_degraded`); `@Public()` opens a route, `@Roles()` checks roles (never public).
 * @example
 * @UseGuards(CoreSdkGuard)
 * @Controller('api') export class ApiController {}
 */
@Injectable()
export class CoreSdkGuard implements CanActivate {
  constructor(
    @Inject(CORESDK_KIT) private readonly kit: AdapterKit,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()]
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(CORESDK_PUBLIC, targets) === true
    const roles = this.reflector
      .getAll<Array<RoleRequirement | undefined>>(CORESDK_ROLES, targets)
      .filter((requirement) => requirement !== undefined)
    if (context.getType() !== 'http') return isPublic && roles.length === 0
    const http = context.switchToHttp()
    const req = http.getRequest<PlatformRequest>()
    // Node's request as received: on the Fastify platform it sits behind `raw`.
    const node = req.raw ?? { url: req.originalUrl ?? req.url, rawHeaders: req.rawHeaders ?? [] }
    const request = { method: req.method, url: node.url ?? '/', headers: node.rawHeaders }
    // Each requirement in turn; a guard that runs twice (global and @UseGuards) reuses what the first one found.
    for (const route of roles.length === 0 ? [{ public: isPublic }] : roles.map((r) => ({ roles: r }))) {
      const result = await this.kit.handle(request, route, req.coresdk)
      appendSetCookie(http.getResponse<AnyResponse>(), result.setCookie)
      if (!result.next) throw new CoreSdkException(result.problem)
      req.coresdk = result.auth
      req.coresdk_user = result.auth.user
      req.coresdk_session = result.auth.session
      req.coresdk_degraded = result.auth.degraded
    }
    return true
  }
}
