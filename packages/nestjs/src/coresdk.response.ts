import type { HttpProblem } from '@coresdk/core'
import type { RouteResponse } from '@coresdk/core/adapter'

interface FastifyReplyLike {
  raw: unknown
  code(status: number): FastifyReplyLike
  header(name: string, value: string): FastifyReplyLike
  send(payload?: Buffer): unknown
}

interface NodeResponseLike {
  statusCode: number
  getHeader(name: string): unknown
  setHeader(name: string, value: string | string[]): unknown
  end(payload: string): unknown
}

/** Express and Fastify responses, as Nest hands them out. */
export type AnyResponse = FastifyReplyLike | NodeResponseLike

function isFastifyReply(res: AnyResponse): res is FastifyReplyLike {
  return typeof (res as FastifyReplyLike).code === 'function' && 'raw' in res
}

/** Adds `Set-Cookie` values to a response without dropping those already set. */
export function appendSetCookie(res: AnyResponse, cookies: readonly string[]): void {
  if (cookies.length === 0) return
  if (isFastifyReply(res)) {
    for (const cookie of cookies) res.header('set-cookie', cookie)
    return
  }
  const existing = res.getHeader('set-cookie')
  const previous =
    existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)]
  res.setHeader('set-cookie', [...previous, ...cookies])
}

/** Writes a problem as core built it: status, headers and JSON body, with no framework default added. */
export function writeProblem(res: AnyResponse, problem: HttpProblem): void {
  const body = JSON.stringify(problem.body)
  if (isFastifyReply(res)) {
    res.code(problem.status)
    for (const [name, value] of Object.entries(problem.headers)) res.header(name, value)
    // A Buffer, because Fastify appends a charset to the content type of a string payload.
    res.send(Buffer.from(body))
    return
  }
  res.statusCode = problem.status
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value)
  res.end(body)
}

/** Writes a route's answer as it is, adding its `Set-Cookie` values to those already set. */
export function writeRoute(res: AnyResponse, answer: RouteResponse): void {
  if (isFastifyReply(res)) {
    res.code(answer.status)
    // Fastify appends each `set-cookie` value; other headers have one.
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) res.header(name, one)
    }
    // A Buffer keeps the content type as given; no body, no content type.
    res.send(answer.body === '' ? undefined : Buffer.from(answer.body))
    return
  }
  res.statusCode = answer.status
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name.toLowerCase() === 'set-cookie') appendSetCookie(res, Array.isArray(value) ? value : [value])
    else res.setHeader(name, value)
  }
  res.end(answer.body)
}
