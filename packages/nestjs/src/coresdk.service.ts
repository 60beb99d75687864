import type { CoreSDKClient, LogoutOptions, LogoutResult } from '@coresdk/core'
import type { AdapterKit, RouteHandler, RouteRequest } from '@coresdk/core/adapter'
import { Inject, Injectable } from '@nestjs/common'
import { CORESDK_CLIENT, CORESDK_KIT, type CoreSdkRequest } from './coresdk.constants.ts'
import { type AnyResponse, appendSetCookie, writeRoute } from './coresdk.response.ts'

interface PlatformRequest extends CoreSdkRequest {
  method: string
  protocol?: string
  body?: RouteRequest['body']
  readableEnded?: boolean
  socket?: { remoteAddress?: string }
  raw?: AsyncIterable<Uint8Array> & {
    url?: string
    readableEnded: boolean
    socket?: { remoteAddress?: string }
  }
}

/** The client, logout and auth routes, for controllers. */
@Injectable()
export class CoreSdkService {
  constructor(
    @Inject(CORESDK_CLIENT) readonly sdk: CoreSDKClient,
    @Inject(CORESDK_KIT) private readonly kit: AdapterKit,
  ) {}

  /**
   * Revokes the current session (all the user's with `everywhere`) and clears the session cookie; with `others`,
   * revokes the user's other sessions and keeps this one. The caller answers.
   * @example
   * @Post('auth/logout') @HttpCode(204) async logout(@Req() req, @Res({ passthrough: true }) res) { await this.coresdk.logout(req, res) }
   */
  async logout(req: object, res: object, options: LogoutOptions = {}): Promise<LogoutResult> {
    const result = await this.kit.logout((req as CoreSdkRequest).coresdk, options)
    appendSetCookie(res as AnyResponse, result.setCookie)
    return result
  }

  /**
   * Answers a request with a framework-neutral route (such as `@coresdk/oidc`'s login and callback), its body limited
   * to the kit's; the route's URL is built from `publicUrl`, else a valid `Host`.
   * @example
   * @Get('auth/login') login(@Req() req, @Res() res) { return this.coresdk.handleRoute(routes.login, req, res) }
   */
  async handleRoute(handler: RouteHandler, req: object, res: object): Promise<void> {
    const request = req as PlatformRequest
    const stream = request.raw ?? (req as AsyncIterable<Uint8Array> & { readableEnded: boolean })
    const answer = await this.kit.route(handler, {
      method: request.method,
      url: request.raw?.url ?? request.originalUrl ?? request.url ?? '/',
      protocol: request.protocol ?? 'http',
      headers: request.headers,
      remoteAddress: (request.raw?.socket ?? request.socket)?.remoteAddress,
      // A body parser that ran set req.body; otherwise the stream is read here, up to the limit.
      body: request.body !== undefined ? request.body : stream.readableEnded ? null : stream,
    })
    writeRoute(res as AnyResponse, answer)
  }
}
