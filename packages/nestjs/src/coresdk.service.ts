import type { CoreSDKClient, LogoutOptions, LogoutResult } from '@coresdk/core'
import type { AdapterKit, RouteHandler } from '@coresdk/core/adapter'
import { Inject, Injectable } from '@nestjs/common'
import { type AnyResponse, nestAdapter, type PlatformRequest } from './coresdk.adapter.ts'
import { CORESDK_CLIENT, CORESDK_KIT } from './coresdk.constants.ts'

/** The client, logout and auth routes, for controllers. */
@Injectable()
export class CoreSdkService {
  readonly #adapter: ReturnType<typeof nestAdapter>

  constructor(
    @Inject(CORESDK_CLIENT) readonly sdk: CoreSDKClient,
    @Inject(CORESDK_KIT) kit: AdapterKit,
  ) {
    this.#adapter = nestAdapter(kit)
  }

  /**
   * Revokes the current session (all the user's with `everywhere`; the others with `others`); the caller answers.
   * @example
   * @Post('auth/logout') @HttpCode(204) async logout(@Req() req, @Res({ passthrough: true }) res) { await this.coresdk.logout(req, res) }
   */
  logout(req: object, res: object, options: LogoutOptions = {}): Promise<LogoutResult> {
    return this.#adapter.logout(req as PlatformRequest, res as AnyResponse, options)
  }

  /**
   * Answers with a framework-neutral route (such as `@coresdk/oidc`'s login), its body limited to the kit's.
   * @example
   * @Get('auth/login') login(@Req() req, @Res() res) { return this.coresdk.handleRoute(routes.login, req, res) }
   */
  async handleRoute(handler: RouteHandler, req: object, res: object): Promise<void> {
    await this.#adapter.authRoute(handler)(req as PlatformRequest, res as AnyResponse)
  }
}
