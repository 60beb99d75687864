import { type CoreSDKClient, CoreSDKError, type HttpProblem } from '@coresdk/core'
import type { Request, Response } from 'express'

const clients = new WeakMap<Request, CoreSDKClient>()

/** Remembers which client authenticated a request, for the helpers that run after the middleware. */
export function bindClient(req: Request, sdk: CoreSDKClient): void {
  clients.set(req, sdk)
}

/** The client `coreSdkMiddleware` bound to this request, if it ran. */
export function boundClient(req: Request): CoreSDKClient | undefined {
  return clients.get(req)
}

/** The client `coreSdkMiddleware` bound to this request; a configuration error when it did not run. */
export function clientOf(req: Request): CoreSDKClient {
  const sdk = clients.get(req)
  if (!sdk)
    throw new CoreSDKError('invalid_config', 'CoreSDK: coreSdkMiddleware(sdk) must run before this handler.')
  return sdk
}

/** Writes core's problem as it is. */
export function sendProblem(res: Response, problem: HttpProblem): void {
  // Written through Node's own API so Express adds no charset: every adapter sends the same bytes and headers.
  res.statusCode = problem.status
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value)
  res.end(JSON.stringify(problem.body))
}
