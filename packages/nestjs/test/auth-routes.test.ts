import type { RouteHandler } from '@coresdk/core'
import type { OidcHandlers } from '@coresdk/oidc'
import { expectTypeOf, it } from 'vitest'
import type { CoreSdkService } from '../src/index.ts'

// The OIDC routes through handleRoute(), over HTTP against a real provider on both platforms:
// apps/example-nestjs/test/auth-routes.test.ts.
it('handleRoute mounts any RouteHandler, the OIDC handlers among them', () => {
  expectTypeOf<OidcHandlers['backchannelLogout']>().toExtend<RouteHandler>()
  expectTypeOf<CoreSdkService['handleRoute']>().parameter(0).toEqualTypeOf<RouteHandler>()
})
