import type { CoreSDKClient, LogoutResult, RouteHandler, RouteRequest } from '@coresdk/core'
import { Inject, Injectable } from '@nestjs/common'
import { CORESDK_CLIENT, type CoreSdkRequest } from './coresdk.constants.ts'
import { type AnyResponse, appendSetCookie, writeRoute } from './coresdk.response.ts'

/** The largest request body `handleRoute` reads itself (when no body parser ran), in bytes. */
const BODY_LIMIT = 64 * 1024

/** Nest's request on either platform: Express's, or Fastify's (with the Node request as `raw`). */
interface PlatformRequest extends CoreSdkRequest {
  method: string
  protocol?: string
  body?: RouteRequest['body']
  raw?: AsyncIterable<Buffer> & { readableEnded: boolean }
  readableEnded?: boolean
}

async function readBody(req: PlatformRequest): Promise<RouteRequest['body'] | 'too_large'> {
  if (req.method === 'GET' || req.method === 'HEAD') return null
  if (req.body !== undefined) return req.body
  const stream = req.raw ?? (req as unknown as AsyncIterable<Buffer> & { readableEnded: boolean })
  if (stream.readableEnded) return null
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.length
    if (size > BODY_LIMIT) return 'too_large'
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Options of {@link CoreSdkService.logout}. */
export interface LogoutOptions {
  /** Revoke every session of the user, not only the current one. @default false */
  everywhere?: boolean
}

/** The module's client, the logout helper, and the helper that mounts framework-neutral routes. */
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
      degraded: request.coresdk_degraded ?? false,
    })
    appendSetCookie(res as AnyResponse, result.setCookie)
    return result
  }

  /**
   * Answers with a framework-neutral route (such as `@coresdk/oidc`'s login, callback, logout and back-channel
   * logout), on Nest's Express and Fastify platforms alike: it gets the full URL, method, headers and body, and its
   * answer is written as it is. Use it with `@Res()` on a `@Public()` handler.
   * @example
   * ```ts
   * @Public() @Get('auth/login')
   * login(@Req() req: object, @Res() res: object) { return this.coresdk.handleRoute(this.routes.login, req, res) }
   * ```
   */
  async handleRoute(handler: RouteHandler, req: object, res: object): Promise<void> {
    const request = req as PlatformRequest
    const body = await readBody(request)
    if (body === 'too_large') {
      return writeRoute(res as AnyResponse, { status: 413, headers: { connection: 'close' }, body: '' })
    }
    const host = request.headers.host
    const url = new URL(
      request.originalUrl ?? request.url ?? '/',
      `${request.protocol ?? 'http'}://${typeof host === 'string' ? host : 'localhost'}`,
    )
    const answer = await handler({ url, method: request.method, headers: request.headers, body })
    writeRoute(res as AnyResponse, answer)
  }
}
