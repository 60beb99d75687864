import type { RouteHandler, RouteRequest } from '@coresdk/core'
import type { Request, RequestHandler, Response } from 'express'

/** The largest request body `authRoute` reads itself (when no body parser ran), in bytes. */
const BODY_LIMIT = 64 * 1024

async function readBody(req: Request): Promise<RouteRequest['body'] | 'too_large'> {
  if (req.method === 'GET' || req.method === 'HEAD') return null
  if (req.body !== undefined) return req.body
  // A body parser that did not match left the stream unread; one that consumed it set req.body above.
  if (req.readableEnded) return null
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > BODY_LIMIT) return 'too_large'
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Mounts a framework-neutral route (such as `@coresdk/oidc`'s login, callback, logout and back-channel logout):
 * hands it the full URL, method, headers and body (read here when no body parser ran), and writes its answer as
 * it is, adding its `Set-Cookie` values to any already set.
 * @example
 * const routes = createOidcHandlers(oidc)
 * app.get('/auth/login', authRoute(routes.login))
 * app.post('/auth/backchannel-logout', authRoute(routes.backchannelLogout))
 */
export function authRoute(handler: RouteHandler): RequestHandler {
  return async (req: Request, res: Response) => {
    const body = await readBody(req)
    if (body === 'too_large') {
      res.writeHead(413, { connection: 'close' }).end()
      return
    }
    const url = new URL(req.originalUrl, `${req.protocol}://${req.get('host') ?? 'localhost'}`)
    const answer = await handler({ url, method: req.method, headers: req.headers, body })
    res.statusCode = answer.status
    for (const [name, value] of Object.entries(answer.headers)) {
      if (name.toLowerCase() !== 'set-cookie') res.setHeader(name, value)
      else if (value.length > 0) res.append('Set-Cookie', value)
    }
    res.end(answer.body)
  }
}
