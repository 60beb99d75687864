import type { CoreSDKClient, LogoutResult } from '@coresdk/core'
import { Inject, Injectable } from '@nestjs/common'
import { CORESDK_CLIENT, type CoreSdkRequest } from './coresdk.constants.ts'
import { type AnyResponse, appendSetCookie } from './coresdk.response.ts'

/** Options of {@link CoreSdkService.logout}. */
export interface LogoutOptions {
  /** Revoke every session of the user, not only the current one. @default false */
  everywhere?: boolean
}

/** The module's client, and the logout helper. */
@Injectable()
export class CoreSdkService {
  constructor(@Inject(CORESDK_CLIENT) readonly sdk: CoreSDKClient) {}

  /**
   * Revokes the current session (or, with `everywhere`, all the user's sessions) and clears the session cookie.
   * @example
   * ```ts
   * @Post('auth/logout') @HttpCode(204)
   * async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response) { await this.coresdk.logout(req, res) }
   * ```
   */
  async logout(req: object, res: object, options: LogoutOptions = {}): Promise<LogoutResult> {
    const request = req as CoreSdkRequest
    const result = await this.sdk.logout({
      session: request.coresdk_session,
      user: request.coresdk_user,
      everywhere: options.everywhere ?? false,
    })
    appendSetCookie(res as AnyResponse, result.setCookie)
    return result
  }
}
