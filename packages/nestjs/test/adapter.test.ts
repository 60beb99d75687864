import 'reflect-metadata'
import { type Claims, type CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { describeAdapter } from '@coresdk/testing/vitest'
import {
  Controller,
  Delete,
  Get,
  HttpCode,
  type INestApplication,
  Inject,
  Module,
  Param,
  Post,
  Req,
  Res,
  type Type,
  UseGuards,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import {
  CORESDK_CLIENT,
  CoreSdkGuard,
  CoreSdkModule,
  type CoreSdkRequest,
  CoreSdkService,
  CoreSdkSession,
  CoreSdkUser,
  Public,
} from '../src/index.ts'

@Controller()
class HealthController {
  @Public()
  @Get('health')
  health() {
    return { status: 'ok' }
  }
}

@Controller()
class ApiController {
  constructor(
    @Inject(CoreSdkService) private readonly coresdk: CoreSdkService,
    @Inject(CORESDK_CLIENT) private readonly sdk: CoreSDKClient,
  ) {}

  @Get('api/me')
  me(@CoreSdkUser() user: Claims, @CoreSdkSession() session: Session | null, @Req() req: CoreSdkRequest) {
    return {
      sub: user.sub,
      email: user.email,
      session_id: session?.id ?? null,
      degraded: req.coresdk_degraded,
    }
  }

  @Get('api/sessions')
  async sessions(@CoreSdkUser('sub') sub: string) {
    return { sessions: await this.sdk.sessions().listForUser(sub) }
  }

  @Delete('api/sessions/:id')
  @HttpCode(204)
  async revoke(@Param('id') id: string, @CoreSdkUser('sub') sub: string) {
    const session = await this.sdk.sessions().get(id)
    // CoreSdkModule's filter answers a CoreSDKError with core's problem.
    if (!session || session.userId !== sub) throw new CoreSDKError('session_not_found')
    await this.sdk.sessions().revoke(id)
  }

  @Post('auth/logout')
  @HttpCode(204)
  async logout(@Req() req: object, @Res({ passthrough: true }) res: object) {
    await this.coresdk.logout(req, res)
  }

  @Post('auth/logout-all')
  @HttpCode(204)
  async logoutAll(@Req() req: object, @Res({ passthrough: true }) res: object) {
    await this.coresdk.logout(req, res, { everywhere: true })
  }

  @Post('auth/logout-others')
  @HttpCode(204)
  async logoutOthers(@Req() req: object, @Res({ passthrough: true }) res: object) {
    await this.coresdk.logout(req, res, { others: true })
  }
}

@UseGuards(CoreSdkGuard)
@Controller()
class GuardedApiController extends ApiController {}

/** Platform Express: forRoot with the guard global, `/health` opted out by `@Public()`. */
function expressModule(sdk: CoreSDKClient): Type {
  @Module({
    imports: [CoreSdkModule.forRoot({ sdk, globalGuard: true })],
    controllers: [HealthController, ApiController],
  })
  class AppModule {}
  return AppModule
}

/** Platform Fastify: forRootAsync, the guard on the controller only. */
function fastifyModule(sdk: CoreSDKClient): Type {
  @Module({
    imports: [CoreSdkModule.forRootAsync({ useFactory: async () => ({ sdk }) })],
    controllers: [HealthController, GuardedApiController],
  })
  class AppModule {}
  return AppModule
}

async function serve(app: INestApplication) {
  await app.listen(0, '127.0.0.1')
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
  return { url, close: () => app.close() }
}

describeAdapter('nestjs (platform-express)', async (sdk) =>
  serve(await NestFactory.create(expressModule(sdk), { logger: false })),
)

describeAdapter('nestjs (platform-fastify)', async (sdk) =>
  serve(await NestFactory.create(fastifyModule(sdk), new FastifyAdapter(), { logger: false })),
)
