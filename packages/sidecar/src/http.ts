import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HttpProblem, ProblemBody } from '@coresdk/core'
import { problemFor, problemType } from '@coresdk/core/adapter'

/** The realm of the sidecar's own `WWW-Authenticate` challenges. */
export const SIDECAR_REALM = 'coresdk-sidecar'

/** A failure of the call itself (bad body, unknown route, refused caller), answered as RFC 9457 problem+json. */
export class SidecarProblem extends Error {
  override readonly name = 'SidecarProblem'
  readonly problem: HttpProblem

  constructor(problem: HttpProblem) {
    super(problem.body.detail)
    this.problem = problem
  }
}

/** A problem of the sidecar's own (its codes are not CoreSDK error codes), with core's headers for the status. */
export function sidecarProblem(
  status: number,
  code: string,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): SidecarProblem {
  const body: ProblemBody = { type: problemType(code), title, status, detail, code }
  return new SidecarProblem({
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
    body,
  })
}

/** `invalid_request` with a detail that says what was wrong with the call (core's detail is about headers). */
export function badRequest(detail: string): SidecarProblem {
  const base = problemFor('invalid_request', { realm: SIDECAR_REALM })
  return new SidecarProblem({
    status: 400,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: { ...base.body, detail },
  })
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** Writes a problem as it is: status, headers and body. */
export function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  const text = JSON.stringify(problem.body)
  res.writeHead(problem.status, { ...problem.headers, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * Reads a JSON object body of at most `limit` bytes. An empty body is `{}`; a non-JSON content type is 415; more
 * than `limit` bytes is 413; anything that is not a JSON object is 400.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  const type = String(req.headers['content-type'] ?? '').toLowerCase()
  if (!/^application\/(?:[a-z0-9.+-]*\+)?json\s*(;|$)/.test(type)) {
    throw sidecarProblem(
      415,
      'unsupported_media_type',
      'Unsupported media type',
      'Send the request body as application/json.',
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw badRequest('The request body is not valid JSON.')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw badRequest('The request body must be a JSON object.')
  return parsed as Record<string, unknown>
}

function tooLarge(limit: number): SidecarProblem {
  return sidecarProblem(
    413,
    'payload_too_large',
    'Payload too large',
    `The request body exceeds ${limit} bytes.`,
    { connection: 'close' },
  )
}
