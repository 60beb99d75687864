import 'reflect-metadata'
import type { Claims, CoreSDKClient, Session } from '@coresdk/core'
import type { RouteHandler } from '@coresdk/core/adapter'
import type { OidcHandlers } from '@coresdk/oidc'
import {
  Controller,
  Get,
  type INestApplication,
  Inject,
  Module,
  Post,
  Req,
  Res,
  type Type,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { expectTypeOf, it } from 'vitest'
import { describeAuthRoutes } from '../../oidc/test/describe-auth-routes.ts'
import { CoreSdkModule, CoreSdkService, CoreSdkSession, CoreSdkUser, Public } from '../src/index.ts'

const OIDC_ROUTES = Symbol('oidc routes')

@Public()
@Controller('auth')
class AuthController {
  constructor(
    @Inject(CoreSdkService) private readonly coresdk: CoreSdkService,
    @Inject(OIDC_ROUTES) private readonly routes: OidcHandlers,
  ) {}

  @Get('login')
  login(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.routes.login, req, res)
  }

  @Get('callback')
  callback(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.routes.callback, req, res)
  }

  @Post('logout')
  logout(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.routes.logout, req, res)
  }

  @Post('logout-all')
  logoutAll(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute((request) => this.routes.logout(request, { everywhere: true }), req, res)
  }

  @Post('backchannel-logout')
  backchannelLogout(@Req() req: object, @Res() res: object) {
    return this.coresdk.handleRoute(this.routes.backchannelLogout, req, res)
  }
}

@Controller('api')
class MeController {
  @Get('me')
  me(@CoreSdkUser() user: Claims, @CoreSdkSession() session: Session | null) {
    return { sub: user.sub, session_id: session?.id ?? null }
  }
}

function appModule(sdk: CoreSDKClient, routes: OidcHandlers): Type {
  @Module({
    imports: [CoreSdkModule.forRoot({ sdk, globalGuard: true })],
    controllers: [AuthController, MeController],
    providers: [{ provide: OIDC_ROUTES, useValue: routes }],
  })
  class AppModule {}
  return AppModule
}

async function serve(app: INestApplication, port: number) {
  await app.listen(port, '127.0.0.1')
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
}

it('handleRoute mounts any RouteHandler, the OIDC handlers among them', () => {
  expectTypeOf<OidcHandlers['backchannelLogout']>().toExtend<RouteHandler>()
  expectTypeOf<CoreSdkService['handleRoute']>().parameter(0).toEqualTypeOf<RouteHandler>()
})

describeAuthRoutes('nestjs (platform-express)', async ({ sdk, routes, port }) =>
  serve(await NestFactory.create(appModule(sdk, routes), { logger: false }), port),
)

describeAuthRoutes('nestjs (platform-express, bodyParser: false)', async ({ sdk, routes, port }) =>
  serve(await NestFactory.create(appModule(sdk, routes), { logger: false, bodyParser: false }), port),
)

describeAuthRoutes('nestjs (platform-fastify)', async ({ sdk, routes, port }) =>
  serve(await NestFactory.create(appModule(sdk, routes), new FastifyAdapter(), { logger: false }), port),
)
