import type { RouteHandler } from '@coresdk/core'
import type { Context, Handler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status'

/** The largest request body `authRoute` reads, in bytes. */
const BODY_LIMIT = 64 * 1024

const limitBody = bodyLimit({
  maxSize: BODY_LIMIT,
  onError: (c) => c.body(null, 413, { connection: 'close' }),
})

async function respond(c: Context, handler: RouteHandler): Promise<Response> {
  const request = c.req.raw
  const body = request.body ? await c.req.text() : null
  const answer = await handler({ url: c.req.url, method: request.method, headers: request.headers, body })
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const one of value) c.header(name, one, { append: true })
    else c.header(name, value)
  }
  // No body at all for an empty one: a 204 or 304 must not carry one.
  if (answer.body === '') return c.body(null, answer.status as StatusCode)
  return c.body(answer.body, answer.status as ContentfulStatusCode)
}

/**
 * Mounts a framework-neutral route (such as `@coresdk/oidc`'s login, callback, logout and back-channel logout):
 * hands it the URL, method, headers and text body of the request (`c.req.raw`, a Web `Request`), and answers with
 * its status, headers and body as they are. Runs on every Hono runtime.
 * @example
 * const routes = createOidcHandlers(oidc)
 * app.get('/auth/login', authRoute(routes.login))
 * app.post('/auth/backchannel-logout', authRoute(routes.backchannelLogout))
 */
export function authRoute(handler: RouteHandler): Handler {
  return async (c) => {
    let answer: Response | undefined
    const refused = await limitBody(c, async () => {
      answer = await respond(c, handler)
    })
    return refused ?? (answer as Response)
  }
}
