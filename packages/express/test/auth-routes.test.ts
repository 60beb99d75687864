import type { RouteHandler } from '@coresdk/core'
import type { OidcHandlers } from '@coresdk/oidc'
import { expectTypeOf, it } from 'vitest'
import { authRoute } from '../src/index.ts'

// The OIDC routes through authRoute(), over HTTP against a real provider: apps/example-express/test/auth-routes.test.ts.
it('mounts any RouteHandler, the OIDC handlers among them', () => {
  expectTypeOf<OidcHandlers['backchannelLogout']>().toExtend<RouteHandler>()
  expectTypeOf(authRoute).parameter(0).toEqualTypeOf<RouteHandler>()
})
