import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import type { Context } from 'hono'

const clients = new WeakMap<Request, CoreSDKClient>()

/** Remembers which client authenticated a request, for the helpers that run after the middleware. */
export function bindClient(c: Context, sdk: CoreSDKClient): void {
  clients.set(c.req.raw, sdk)
}

/** The client `coreSdkMiddleware` bound to this request; a configuration error when it did not run. */
export function clientOf(c: Context, helper: string): CoreSDKClient {
  const sdk = clients.get(c.req.raw)
  if (!sdk)
    throw new CoreSDKError('invalid_config', `CoreSDK: coreSdkMiddleware(sdk) must run before ${helper}.`)
  return sdk
}
