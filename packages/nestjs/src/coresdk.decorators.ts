import type { RoleRequirement } from '@coresdk/core'
import { roleRequirement } from '@coresdk/core/adapter'
import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common'
import { CORESDK_PUBLIC, CORESDK_ROLES, type CoreSdkRequest } from './coresdk.constants.ts'

/** Marks a handler or controller as public: `CoreSdkGuard` lets it through without a credential (unless it has `@Roles()`). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(CORESDK_PUBLIC, true)

/**
 * The roles a handler or controller needs, checked by `CoreSdkGuard` after authentication: any of the roles
 * given, or a `{ anyOf, allOf }` requirement. On both a controller and a handler, both must pass. Answers core's
 * 401 (anonymous) or 403 `forbidden` problem; a requirement naming no role throws when the class is declared.
 * @example
 * ```ts
 * @Roles('admin', 'support') @Get('tickets') tickets() {}
 * @Roles({ allOf: ['billing', 'admin'] }) @Post('refunds') refund() {}
 * ```
 */
export function Roles(requirement: RoleRequirement): MethodDecorator & ClassDecorator
export function Roles(...roles: string[]): MethodDecorator & ClassDecorator
export function Roles(...args: [RoleRequirement] | string[]): MethodDecorator & ClassDecorator {
  return SetMetadata(CORESDK_ROLES, roleRequirement(args))
}

/**
 * The verified claims of the caller (`coresdk_user`), or one claim of them: `@CoreSdkUser('email')`.
 * @example
 * ```ts
 * @Get('me') me(@CoreSdkUser() user: Claims) { return { sub: user.sub } }
 * ```
 */
export const CoreSdkUser = createParamDecorator((claim: string | undefined, context: ExecutionContext) => {
  // The request is the context's first argument (what `switchToHttp().getRequest()` returns, without its closures).
  const user = context.getArgByIndex<CoreSdkRequest>(0).coresdk_user ?? null
  return claim === undefined ? user : user?.[claim]
})

/** The caller's session (`coresdk_session`: a `Session`, or null). */
export const CoreSdkSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.getArgByIndex<CoreSdkRequest>(0).coresdk_session ?? null,
)
