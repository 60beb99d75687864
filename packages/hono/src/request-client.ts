import { type CoreSDKClient, CoreSDKError, type HttpProblem } from '@coresdk/core'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const clients = new WeakMap<Request, CoreSDKClient>()

/** Remembers which client authenticated a request, for the helpers that run after the middleware. */
export function bindClient(c: Context, sdk: CoreSDKClient): void {
  clients.set(c.req.raw, sdk)
}

/** The client `coreSdkMiddleware` bound to this request, if it ran. */
export function boundClient(c: Context): CoreSDKClient | undefined {
  return clients.get(c.req.raw)
}

/** The client `coreSdkMiddleware` bound to this request; a configuration error when it did not run. */
export function clientOf(c: Context, helper: string): CoreSDKClient {
  const sdk = clients.get(c.req.raw)
  if (!sdk)
    throw new CoreSDKError('invalid_config', `CoreSDK: coreSdkMiddleware(sdk) must run before ${helper}.`)
  return sdk
}

/** Answers with core's problem as it is. */
export function sendProblem(c: Context, problem: HttpProblem): Response {
  // Through the context, so cookies the middleware set (a renewed session) go out with the problem.
  return c.body(JSON.stringify(problem.body), problem.status as ContentfulStatusCode, problem.headers)
}
