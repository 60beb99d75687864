import 'reflect-metadata'
import { type Claims, CoreSDKClient } from '@coresdk/core'
import { rawRequest, TestIssuer } from '@coresdk/testing'
import { describeRoleChecks, expectForbidden, expectProblem } from '@coresdk/testing/vitest'
import { Controller, Get, type INestApplication, Module, type Type, UseGuards } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CoreSdkGuard, CoreSdkModule, CoreSdkUser, Public, Roles } from '../src/index.ts'

@Controller('api')
class StaffController {
  @Roles('admin', 'support')
  @Get('staff')
  staff(@CoreSdkUser() user: Claims) {
    return { sub: user.sub }
  }

  @Roles({ allOf: ['admin', 'auditor'] })
  @Get('audit')
  audit(@CoreSdkUser() user: Claims) {
    return { sub: user.sub }
  }
}

@UseGuards(CoreSdkGuard)
@Controller('api')
class GuardedStaffController extends StaffController {}

/** Under a public path (and marked `@Public()`), yet with roles: never public. */
@Controller('public')
class PublicStaffController {
  @Public()
  @Roles('admin')
  @Get('staff')
  staff(@CoreSdkUser() user: Claims) {
    return { sub: user.sub }
  }
}

@UseGuards(CoreSdkGuard)
@Controller('public')
class GuardedPublicStaffController extends PublicStaffController {}

/** Roles on the class and on a handler both apply; `@Public()` does not lift a role requirement. */
@Roles('staff')
@Controller('desk')
class DeskController {
  @Get('any')
  any(@CoreSdkUser('sub') sub: string) {
    return { sub }
  }

  @Roles('admin')
  @Get('admin')
  admin(@CoreSdkUser('sub') sub: string) {
    return { sub }
  }

  @Public()
  @Get('public')
  open(@CoreSdkUser('sub') sub: string) {
    return { sub }
  }
}

function expressModule(sdk: CoreSDKClient): Type {
  @Module({
    imports: [CoreSdkModule.forRoot({ sdk, optional: true, globalGuard: true, publicPaths: ['/public/*'] })],
    controllers: [StaffController, DeskController, PublicStaffController],
  })
  class AppModule {}
  return AppModule
}

function fastifyModule(sdk: CoreSDKClient): Type {
  @Module({
    imports: [
      CoreSdkModule.forRootAsync({
        useFactory: async () => ({ sdk, optional: true, publicPaths: ['/public/*'] }),
      }),
    ],
    controllers: [GuardedStaffController, GuardedPublicStaffController],
  })
  class AppModule {}
  return AppModule
}

async function serve(app: INestApplication) {
  await app.listen(0, '127.0.0.1')
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
  return { url, close: () => app.close() }
}

describeRoleChecks('nestjs (platform-express)', async (sdk) =>
  serve(await NestFactory.create(expressModule(sdk), { logger: false })),
)

describeRoleChecks('nestjs (platform-fastify)', async (sdk) =>
  serve(await NestFactory.create(fastifyModule(sdk), new FastifyAdapter(), { logger: false })),
)

describe('@Roles() on a controller and a handler', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let app: { url: string; close(): Promise<void> }
  const get = async (path: string, roles?: string[]) =>
    rawRequest(
      app.url,
      'GET',
      path,
      roles ? { authorization: `Bearer ${await issuer.mint({ jti: crypto.randomUUID(), roles })}` } : {},
    )

  beforeAll(async () => {
    issuer = await TestIssuer.create()
    sdk = new CoreSDKClient({ env: {}, jwt: issuer.jwtOptions() })
    app = await serve(await NestFactory.create(expressModule(sdk), { logger: false }))
  })
  afterAll(async () => {
    await app?.close()
    await sdk?.close()
  })

  it('needs both: the class’s role everywhere, and the handler’s on top', async () => {
    expect((await get('/desk/any', ['staff'])).status).toBe(200)
    expectForbidden(await get('/desk/any', ['admin']), 'coresdk')
    expectForbidden(await get('/desk/admin', ['staff']), 'coresdk')
    expect((await get('/desk/admin', ['staff', 'admin'])).status).toBe(200)
  })

  it('a @Public() handler under @Roles() still needs the role', async () => {
    expectProblem(await get('/desk/public'), 'missing_credentials', 'coresdk')
    expectForbidden(await get('/desk/public', ['viewer']), 'coresdk')
    expect((await get('/desk/public', ['staff'])).status).toBe(200)
  })

  it('refuses, when the class is declared, a role requirement that names no role', () => {
    expect(() => Roles()).toThrow(expect.objectContaining({ code: 'invalid_config' }))
    expect(() => Roles({ anyOf: [] })).toThrow(expect.objectContaining({ code: 'invalid_config' }))
  })
})
