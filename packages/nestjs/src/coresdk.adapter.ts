import type { HttpProblem } from '@coresdk/core'
import type { AdapterKit, NodeRequestLike, RequestAuth, RouteResponse } from '@coresdk/core/adapter'
import { defineAdapter, nodeRequest, nodeRouteRequest } from '@coresdk/core/adapter'
import { HttpException } from '@nestjs/common'
import type { CoreSdkRequest } from './coresdk.constants.ts'

/** A refused request: carries core's problem so the filter answers with exactly its status, headers and body. */
export class CoreSdkException extends HttpException {
  /** The problem core built for this request. */
  readonly problem: HttpProblem

  constructor(problem: HttpProblem) {
    super(problem.body, problem.status)
    this.problem = problem
  }
}

/** Nest's request on either platform: Express's is Node's own, Fastify's wraps it as `raw`. */
export interface PlatformRequest extends CoreSdkRequest {
  method: string
  protocol?: string
  body?: unknown
  raw?: NodeRequestLike
}

interface FastifyReplyLike {
  raw: unknown
  code(status: number): FastifyReplyLike
  header(name: string, value: string): FastifyReplyLike
  send(payload?: Uint8Array): unknown
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
function cookies(setCookie: readonly string[], _req: unknown, res: AnyResponse): void {
  if (isFastifyReply(res)) {
    for (const cookie of setCookie) res.header('set-cookie', cookie)
    return
  }
  const existing = res.getHeader('set-cookie')
  const previous =
    existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)]
  res.setHeader('set-cookie', [...previous, ...setCookie])
}

/** Writes core's answer as it is, with no framework default added. */
export function write(answer: RouteResponse, req: unknown, res: AnyResponse): void {
  const reply = isFastifyReply(res) ? res.code(answer.status) : undefined
  if (reply === undefined) (res as NodeResponseLike).statusCode = answer.status
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name === 'set-cookie') cookies(value as string[], req, res)
    else if (reply) reply.header(name, value as string)
    else (res as NodeResponseLike).setHeader(name, value)
  }
  // A Buffer keeps the content type as given (Fastify appends a charset to a string's); no body, no content type.
  if (reply) reply.send(answer.body === '' ? undefined : Buffer.from(answer.body))
  else (res as NodeResponseLike).end(answer.body)
}

const exposed = new WeakSet<object>()
const FIELDS = [
  ['coresdk_user', (auth: RequestAuth | undefined) => auth?.user ?? null],
  ['coresdk_session', (auth: RequestAuth | undefined) => auth?.session ?? null],
  ['coresdk_degraded', (auth: RequestAuth | undefined) => auth?.degraded ?? false],
] as const

/**
 * `coresdk_user`, `coresdk_session` and `coresdk_degraded` become getters over `coresdk` on the platform's request
 * prototype (Express's app request, Fastify's Request class), once per prototype: three more own properties on each
 * request would cost V8 a map migration apiece. An assignment gives that request its own value. A request whose
 * prototype is shared with everything (a plain object) gets them as its own properties instead.
 */
function expose(req: PlatformRequest): void {
  const proto = Object.getPrototypeOf(req) as object | null
  if (proto !== null && exposed.has(proto)) return
  if (proto === null || proto === Object.prototype) {
    const auth = req.coresdk
    for (const [name, read] of FIELDS) (req as unknown as Record<string, unknown>)[name] = read(auth)
    return
  }
  exposed.add(proto)
  for (const [name, read] of FIELDS)
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: PlatformRequest) {
        return read(this.coresdk)
      },
      set(this: PlatformRequest, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true })
      },
    })
}

/** The glue over the module's kit, for the guard and the service; a refusal is thrown, for Nest's exception filters. */
export function nestAdapter(kit: AdapterKit) {
  return defineAdapter<PlatformRequest, AnyResponse, undefined, boolean>({
    setup: 'CoreSdkModule',
    kit,
    // Node's request as received: on the Fastify platform it sits behind `raw`.
    request: (req) =>
      nodeRequest(req.raw ?? (req as unknown as NodeRequestLike), req.raw?.url ?? req.originalUrl),
    // A body parser that ran set `body`; otherwise the kit reads the stream, up to its limit.
    routeRequest: (req) =>
      nodeRouteRequest(
        req.raw ?? (req as unknown as NodeRequestLike),
        req.protocol ?? 'http',
        req.raw?.url ?? req.originalUrl,
        req.body,
      ),
    auth: (req) => req.coresdk,
    pass(auth, req) {
      req.coresdk = auth
      expose(req)
      return true
    },
    cookies,
    write(answer, req, res) {
      write(answer, req, res)
      return true
    },
    refuse(problem) {
      throw new CoreSdkException(problem)
    },
  })
}
