import { problemFor } from './errors.ts'
import type { RouteHandler, RouteRequest, RouteResponse } from './route.ts'
import type { HttpProblem } from './types.ts'

/** An auth route's request as an adapter hands it over. */
export interface AuthRouteRequest {
  method: string
  /** The request target as received (path and query), or the absolute URL of a Web `Request`. */
  url: string
  /** The scheme the framework reports (`req.protocol`), used with a path and no `publicUrl`. */
  protocol: string
  headers: RouteRequest['headers']
  /** The socket's remote address, as on `AdapterRequest.remoteAddress`. */
  remoteAddress?: string | undefined
  /** A body a parser already read, or the unread stream (Node's or a Web one: read here, up to the limit), or null. */
  body: RouteRequest['body'] | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>
}

// A host name or address and an optional port, as a Host header may carry them; anything else is refused.
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** A problem as an answer to write as it is, with the cookies to set (`set-cookie`, an array) when there are any. */
export function problemResponse(problem: HttpProblem, setCookie: readonly string[] = []): RouteResponse {
  const headers: RouteResponse['headers'] = { ...problem.headers }
  if (setCookie.length > 0) headers['set-cookie'] = [...setCookie]
  return { status: problem.status, headers, body: JSON.stringify(problem.body) }
}

function headerOf(headers: RouteRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const value = (headers as Record<string, string | string[] | undefined>)[name]
  return Array.isArray(value) ? value[0] : value
}

type Stream = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>

function isStream(body: AuthRouteRequest['body']): body is Stream {
  return (
    body !== null &&
    typeof body === 'object' &&
    (Symbol.asyncIterator in body || typeof (body as ReadableStream).getReader === 'function')
  )
}

async function readLimited(body: Stream, limit: number): Promise<string | null> {
  const chunks: Uint8Array[] = []
  let size = 0
  const take = (chunk: Uint8Array): boolean => {
    size += chunk.byteLength
    chunks.push(chunk)
    return size <= limit
  }
  if (typeof (body as ReadableStream).getReader === 'function') {
    // A Web stream, read through its reader: every runtime has one, not every runtime makes it iterable.
    const reader = (body as ReadableStream<Uint8Array>).getReader()
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      if (!take(next.value)) {
        await reader.cancel()
        return null
      }
    }
  } else {
    for await (const chunk of body as AsyncIterable<Uint8Array>) if (!take(chunk)) return null
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.byteLength
  }
  return new TextDecoder().decode(all)
}

/** The most bytes an auth route's body may hold. */
export const AUTH_ROUTE_BODY_LIMIT = 64 * 1024

/**
 * Runs a framework-neutral route, as {@link AdapterKit.route} does, for an adapter whose auth routes may be mounted
 * without its middleware: builds the URL (from `publicUrl`, else a valid `Host`: a 400 problem otherwise), reads the
 * body up to 64 KiB (else the 413 problem), and returns the handler's answer.
 */
export async function runAuthRoute(
  handler: RouteHandler,
  request: AuthRouteRequest,
  options: { publicUrl?: string | undefined; realm?: string } = {},
): Promise<RouteResponse> {
  const realm = { realm: options.realm ?? 'coresdk' }
  let url: URL
  try {
    if (options.publicUrl !== undefined) url = new URL(request.url, options.publicUrl)
    // A Web Request (Workers, Bun, Deno) carries its absolute URL, already parsed by the runtime.
    else if (/^https?:\/\//i.test(request.url)) url = new URL(request.url)
    else {
      const host = headerOf(request.headers, 'host')
      if (host === undefined || !HOST.test(host)) return problemResponse(problemFor('invalid_request', realm))
      url = new URL(request.url, `${request.protocol === 'https' ? 'https' : 'http'}://${host}`)
    }
  } catch {
    return problemResponse(problemFor('invalid_request', realm))
  }
  let body: RouteRequest['body'] = null
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    if (isStream(request.body)) {
      const text = await readLimited(request.body, AUTH_ROUTE_BODY_LIMIT)
      if (text === null) {
        const answer = problemResponse(problemFor('payload_too_large', realm))
        return { ...answer, headers: { ...answer.headers, connection: 'close' } }
      }
      body = text
    } else body = request.body
  }
  return handler({
    url,
    method: request.method,
    headers: request.headers,
    body,
    remoteAddress: request.remoteAddress,
  })
}
