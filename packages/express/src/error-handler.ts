import { CoreSDKError, problemFromError } from '@coresdk/core'
import type { ErrorRequestHandler } from 'express'
import { boundClient, sendProblem } from './request-client.ts'

/**
 * Answers a `CoreSDKError` thrown by a route (the store down, a session unknown, a logout that could not be
 * written) with core's problem, such as the 503 `store_unavailable` with `Retry-After`; passes any other error on
 * to the next error handler untouched. Register it after the routes.
 * @example
 * app.post('/auth/logout', async (req, res) => { await logout(req, res); res.status(204).end() })
 * app.use(coreSdkErrorHandler())
 */
export function coreSdkErrorHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    // A response already under way can only be cut off, which Express's own handler does.
    if (!(err instanceof CoreSDKError) || res.headersSent) return next(err)
    sendProblem(res, problemFromError(err, { realm: boundClient(req)?.config.serviceName }))
  }
}
