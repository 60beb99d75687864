import { type Claims, type CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import {
  CORESDK_CLIENT,
  type CoreSdkRequest,
  CoreSdkService,
  CoreSdkSession,
  CoreSdkUser,
  Public,
} from '@coresdk/nestjs'
import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common'

/** Provides whether `/api/me` reports `degraded` (see `AppOptions.degraded`). */
export const REPORT_DEGRADED = Symbol('report degraded')

/** The example API (DESIGN §7). Every route needs a credential (the guard is global) unless `@Public()`. */
@Controller()
export class ApiController {
  // Explicit @Inject: the app also runs where decorator metadata is not emitted (tsx, esbuild).
  constructor(
    @Inject(CORESDK_CLIENT) private readonly sdk: CoreSDKClient,
    @Inject(REPORT_DEGRADED) private readonly reportDegraded: boolean,
  ) {}

  @Public()
  @Get('health')
  health() {
    return { status: 'ok' }
  }

  @Get('api/me')
  me(@CoreSdkUser() user: Claims, @CoreSdkSession() session: Session | null, @Req() req: CoreSdkRequest) {
    const me = { sub: user.sub, email: user.email, session_id: session?.id ?? null }
    return this.reportDegraded ? { ...me, degraded: req.coresdk_degraded } : me
  }

  @Get('api/sessions')
  async sessions(@CoreSdkUser('sub') sub: string) {
    return { sessions: await this.sdk.sessions().listForUser(sub) }
  }

  @Delete('api/sessions/:id')
  @HttpCode(204)
  async revoke(@Param('id') id: string, @CoreSdkUser('sub') sub: string): Promise<void> {
    const session = await this.sdk.sessions().get(id)
    // Someone else's session answers exactly like a missing one: no oracle on session ids. CoreSdkModule's
    // filter answers a CoreSDKError (this one, or the store being down) with core's problem.
    if (!session || session.userId !== sub) throw new CoreSDKError('session_not_found')
    await this.sdk.sessions().revoke(id, { actor: 'user' })
  }
}

/** Logout without an OpenID provider: revokes the session (or all the user's), clears the cookie, 204. */
@Controller('auth')
export class LogoutController {
  constructor(@Inject(CoreSdkService) private readonly coresdk: CoreSdkService) {}

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: object, @Res({ passthrough: true }) res: object): Promise<void> {
    await this.coresdk.logout(req, res)
  }

  @Post('logout-all')
  @HttpCode(204)
  async logoutAll(@Req() req: object, @Res({ passthrough: true }) res: object): Promise<void> {
    await this.coresdk.logout(req, res, { everywhere: true })
  }

  @Post('logout-others')
  @HttpCode(204)
  async logoutOthers(@Req() req: object, @Res({ passthrough: true }) res: object): Promise<void> {
    await this.coresdk.logout(req, res, { others: true })
  }
}
