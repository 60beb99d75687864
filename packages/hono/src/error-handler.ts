import { CoreSDKError, problemFromError } from '@coresdk/core'
import type { Context } from 'hono'
import { boundClient, sendProblem } from './request-client.ts'

/**
 * An error handler for `app.onError`: answers a `CoreSDKError` thrown by a route (the store down, a session
 * unknown, a logout that could not be written) with core's problem, such as the 503 `store_unavailable` with
 * `Retry-After`; answers any other error exactly as Hono's default handler does.
 * @example
 * app.use(coreSdkMiddleware(sdk))
 * app.onError(coreSdkErrorHandler)
 */
export function coreSdkErrorHandler(err: Error, c: Context): Response {
  if (err instanceof CoreSDKError)
    return sendProblem(c, problemFromError(err, { realm: boundClient(c)?.config.serviceName }))
  // Hono's own default, which an onError handler replaces and cannot defer to: an HTTPException's response, else 500.
  if ('getResponse' in err && typeof err.getResponse === 'function') {
    const res = err.getResponse() as Response
    return c.newResponse(res.body, res)
  }
  console.error(err)
  return c.text('Internal Server Error', 500)
}
