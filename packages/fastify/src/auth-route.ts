import type { RouteHandler, RouteRequest } from '@coresdk/core'
import type { FastifyReply, FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify'

/** The largest request body `authRoute` reads, in bytes. */
const BODY_LIMIT = 64 * 1024

async function readBody(request: FastifyRequest): Promise<RouteRequest['body'] | 'too_large'> {
  if (request.method === 'GET' || request.method === 'HEAD') return null
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > BODY_LIMIT) return 'too_large'
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function answer(handler: RouteHandler, request: FastifyRequest, reply: FastifyReply) {
  const body = await readBody(request)
  if (body === 'too_large') return reply.code(413).header('connection', 'close').send()
  const url = new URL(request.url, `${request.protocol}://${request.host}`)
  const result = await handler({ url, method: request.method, headers: request.headers, body })
  reply.code(result.status)
  // Fastify appends every `set-cookie` value to those already set (by coreSdkPlugin, say).
  for (const [name, value] of Object.entries(result.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) reply.header(name, one)
  }
  // A Buffer keeps the content type as given (Fastify appends a charset to a string's); no body, no content type.
  return reply.send(result.body === '' ? undefined : Buffer.from(result.body))
}

/**
 * Route options mounting a framework-neutral route (such as `@coresdk/oidc`'s login, callback, logout and
 * back-channel logout): it gets the full URL, method, headers and raw body, and its answer is written as it is.
 * It answers from `onRequest`, before Fastify parses the body, so a form body needs no content-type parser, and
 * the route is public to `coreSdkPlugin` (the handler reads the credentials it needs itself).
 * @example
 * const routes = createOidcHandlers(oidc)
 * app.get('/auth/login', authRoute(routes.login))
 * app.post('/auth/backchannel-logout', authRoute(routes.backchannelLogout))
 */
export function authRoute(handler: RouteHandler): RouteShorthandOptionsWithHandler {
  return {
    config: { coresdk: { public: true } },
    onRequest: (request, reply) => answer(handler, request, reply),
    // Never reached: onRequest always answers.
    handler: async (_request, reply) => reply.code(500).send(),
  }
}
