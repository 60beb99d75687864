import { CoreSdkService, Public } from '@coresdk/nestjs'
import type { OidcHandlers } from '@coresdk/oidc'
import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common'

/** Provides the OIDC handlers {@link OidcController} mounts. */
export const OIDC_HANDLERS = Symbol('oidc handlers')

/** Sign-in through an OpenID provider; `handleRoute` writes each handler's answer. Public: the handlers decide. */
@Public()
@Controller('auth')
export class OidcController {
  constructor(
    @Inject(CoreSdkService) private readonly coresdk: CoreSdkService,
    @Inject(OIDC_HANDLERS) private readonly oidc: OidcHandlers,
  ) {}

  @Get('login')
  login(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.oidc.login, req, res)
  }

  @Get('callback')
  callback(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.oidc.callback, req, res)
  }

  @Post('logout')
  logout(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.oidc.logout, req, res)
  }

  @Post('logout-all')
  logoutAll(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute((request) => this.oidc.logout(request, { everywhere: true }), req, res)
  }

  @Post('backchannel-logout')
  backchannelLogout(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.oidc.backchannelLogout, req, res)
  }
}
