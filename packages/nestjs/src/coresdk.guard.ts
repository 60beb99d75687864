import type { AdapterKit, AdapterRoute, Gate, RoleRequirement } from '@coresdk/core/adapter'
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import { type AnyResponse, nestAdapter, type PlatformRequest } from './coresdk.adapter.ts'
import { CORESDK_KIT, CORESDK_PUBLIC, CORESDK_ROLES } from './coresdk.constants.ts'

type Check = Gate<PlatformRequest, AnyResponse, undefined, boolean>

/**
 * Authenticates the request and puts the result on it (`coresdk_user`, …); `@Public()` opens a route, `@Roles()` checks.
 * @example
 * @UseGuards(CoreSdkGuard) @Controller('api') export class ApiController {}
 */
@Injectable()
export class CoreSdkGuard implements CanActivate {
  // Each handler's checks, built once per handler and class from its decorators rather than on every request.
  readonly #checks = new WeakMap<object, WeakMap<object, { public: boolean; checks: readonly Check[] }>>()

  readonly #adapter: ReturnType<typeof nestAdapter>

  constructor(
    @Inject(CORESDK_KIT) private readonly kit: AdapterKit,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.#adapter = nestAdapter(kit)
  }

  /** Synchronous when it can be: a warm request (answered without a promise) goes on in the same turn. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.#checksOf(context)
    if (context.getType() !== 'http') return route.public
    // An HTTP context's arguments are the request and the response: `switchToHttp()` would give the same two, at the
    // cost of three closures and an object per request.
    return run(
      route.checks,
      0,
      context.getArgByIndex<PlatformRequest>(0),
      context.getArgByIndex<AnyResponse>(1),
    )
  }

  #checksOf(context: ExecutionContext) {
    const handler = context.getHandler()
    const type = context.getClass()
    let byHandler = this.#checks.get(type)
    if (byHandler === undefined) {
      byHandler = new WeakMap()
      this.#checks.set(type, byHandler)
    }
    let route = byHandler.get(handler)
    if (route === undefined) {
      const isPublic = this.reflector.getAllAndOverride<boolean>(CORESDK_PUBLIC, [handler, type]) === true
      const roles = this.reflector
        .getAll<Array<RoleRequirement | undefined>>(CORESDK_ROLES, [handler, type])
        .filter((requirement) => requirement !== undefined)
      // On both a controller and a handler, both role requirements must pass: one check each, in turn.
      const routes: AdapterRoute[] =
        roles.length === 0 ? [{ public: isPublic }] : roles.map((r) => ({ roles: r }))
      route = {
        public: isPublic && roles.length === 0,
        checks: routes.map((r) => this.#adapter.gate(r, this.kit)),
      }
      byHandler.set(handler, route)
    }
    return route
  }
}

/** Runs `checks` from `i` on; a guard that runs twice (global and @UseGuards) reuses what the first one found. */
function run(
  checks: readonly Check[],
  i: number,
  req: PlatformRequest,
  res: AnyResponse,
): boolean | Promise<boolean> {
  for (; i < checks.length; i++) {
    const result = checks[i]!(req, res, undefined)
    if (result instanceof Promise) return result.then(() => run(checks, i + 1, req, res))
  }
  return true
}
