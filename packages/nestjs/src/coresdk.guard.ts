import type { AdapterKit, AdapterRoute, HandleResult, RoleRequirement } from '@coresdk/core/adapter'
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import { CORESDK_KIT, CORESDK_PUBLIC, CORESDK_ROLES, type CoreSdkRequest } from './coresdk.constants.ts'
import { CoreSdkException } from './coresdk.exception.ts'
import { type AnyResponse, appendSetCookie } from './coresdk.response.ts'

interface PlatformRequest extends CoreSdkRequest {
  method: string
  rawHeaders?: string[]
  socket?: { remoteAddress?: string }
  /** Fastify's request wraps Node's. */
  raw?: { url?: string; rawHeaders: string[]; socket?: { remoteAddress?: string } }
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
  // What each handler's decorators ask, read once per handler and class rather than on every request.
  readonly #routes = new WeakMap<object, WeakMap<object, readonly AdapterRoute[]>>()

  constructor(
    @Inject(CORESDK_KIT) private readonly kit: AdapterKit,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  /** Synchronous when it can be: a warm request (answered without a promise) goes on in the same turn. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const routes = this.#routesOf(context)
    if (context.getType() !== 'http') return routes.length === 1 && routes[0]!.public === true
    const http = context.switchToHttp()
    const req = http.getRequest<PlatformRequest>()
    // Node's request as received: on the Fastify platform it sits behind `raw`.
    const node = req.raw ?? {
      url: req.originalUrl ?? req.url,
      rawHeaders: req.rawHeaders ?? [],
      socket: req.socket,
    }
    const request = {
      method: req.method,
      url: node.url ?? '/',
      headers: node.rawHeaders,
      remoteAddress: node.socket?.remoteAddress,
    }
    const res = http.getResponse<AnyResponse>()
    // Each requirement in turn; a guard that runs twice (global and @UseGuards) reuses what the first one found.
    const from = (i: number): boolean | Promise<boolean> => {
      for (; i < routes.length; i++) {
        const result = this.kit.handle(request, routes[i], req.coresdk)
        if (result instanceof Promise) {
          const next = i + 1
          return result.then((r) => {
            settle(req, res, r)
            return from(next)
          })
        }
        settle(req, res, result)
      }
      return true
    }
    return from(0)
  }

  #routesOf(context: ExecutionContext): readonly AdapterRoute[] {
    const handler = context.getHandler()
    const type = context.getClass()
    let byHandler = this.#routes.get(type)
    if (byHandler === undefined) {
      byHandler = new WeakMap()
      this.#routes.set(type, byHandler)
    }
    let routes = byHandler.get(handler)
    if (routes === undefined) {
      const targets = [handler, type]
      const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(CORESDK_PUBLIC, targets) === true
      const roles = this.reflector
        .getAll<Array<RoleRequirement | undefined>>(CORESDK_ROLES, targets)
        .filter((requirement) => requirement !== undefined)
      routes = Object.freeze(
        roles.length === 0
          ? [Object.freeze({ public: isPublic })]
          : roles.map((r) => Object.freeze({ roles: r })),
      )
      byHandler.set(handler, routes)
    }
    return routes
  }
}

/** Applies one answer: its cookies, then the problem (thrown) or the auth on the request. */
function settle(req: PlatformRequest, res: AnyResponse, result: HandleResult): void {
  appendSetCookie(res, result.setCookie)
  if (!result.next) throw new CoreSdkException(result.problem)
  const auth = result.auth
  req.coresdk = auth
  req.coresdk_user = auth.user
  req.coresdk_session = auth.session
  req.coresdk_degraded = auth.degraded
}
