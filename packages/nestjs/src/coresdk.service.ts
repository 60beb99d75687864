import type { CoreSDKClient, LogoutOptions, LogoutResult } from '@coresdk/core'
import {
  type AdapterKit,
  type NodeRequestLike,
  nodeRouteRequest,
  type RouteHandler,
} from '@coresdk/core/adapter'
import { Inject, Injectable } from '@nestjs/common'
import { type AnyResponse, adapter, type PlatformRequest } from './coresdk.adapter.ts'
import { CORESDK_CLIENT, CORESDK_KIT } from './coresdk.constants.ts'

/** The client, logout and auth routes, for controllers. */
@Injectable()
export class CoreSdkService {
  constructor(
    @Inject(CORESDK_CLIENT) readonly sdk: CoreSDKClient,
    @Inject(CORESDK_KIT) private readonly kit: AdapterKit,
  ) {}

  /**
   * Revokes the current session (all the user's with `everywhere`; the others with `others`); the caller answers.
   * @example
   * @Post('auth/logout') @HttpCode(204) async logout(@Req() req, @Res({ passthrough: true }) res) { await this.coresdk.logout(req, res) }
   */
  logout(req: object, res: object, options: LogoutOptions = {}): Promise<LogoutResult> {
    return adapter.logout(req as PlatformRequest, res as AnyResponse, options, this.kit)
  }

  /**
   * Answers with a framework-neutral route (such as `@coresdk/oidc`'s login), its body limited to the kit's.
   * @example
   * @Get('auth/login') login(@Req() req, @Res() res) { return this.coresdk.handleRoute(routes.login, req, res) }
   */
  async handleRoute(handler: RouteHandler, req: object, res: object): Promise<void> {
    const request = req as PlatformRequest
    // Node's request is `raw` on the Fastify platform; a body parser that ran set `body`.
    const node = request.raw ?? (req as unknown as NodeRequestLike)
    const url = request.raw?.url ?? request.originalUrl
    const input = nodeRouteRequest(node, request.protocol ?? 'http', url, request.body)
    await adapter.route(handler, input, request, res as AnyResponse, this.kit)
  }
}
