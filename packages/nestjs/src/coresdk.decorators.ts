import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common'
import { CORESDK_PUBLIC, type CoreSdkRequest } from './coresdk.constants.ts'

/** Marks a handler or controller as public: `CoreSdkGuard` lets it through without a credential. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(CORESDK_PUBLIC, true)

/**
 * The verified claims of the caller (`coresdk_user`), or one claim of them: `@CoreSdkUser('email')`.
 * @example
 * ```ts
 * @Get('me') me(@CoreSdkUser() user: Claims) { return { sub: user.sub } }
 * ```
 */
export const CoreSdkUser = createParamDecorator((claim: string | undefined, context: ExecutionContext) => {
  const user = context.switchToHttp().getRequest<CoreSdkRequest>().coresdk_user ?? null
  return claim === undefined ? user : user?.[claim]
})

/** The caller's session (`coresdk_session`: a `Session`, or null). */
export const CoreSdkSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<CoreSdkRequest>().coresdk_session ?? null,
)
