import 'reflect-metadata'
import { CoreSDKClient } from '@coresdk/core'
import { rawRequest, TestIssuer } from '@coresdk/testing'
import { expectForbidden, expectProblem } from '@coresdk/testing/vitest'
import { Controller, Get, type INestApplication, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CoreSdkModule, CoreSdkUser, Public, Roles } from '../src/index.ts'

// The role checks over HTTP (describeRoleChecks), on both platforms: apps/example-nestjs/test/roles.test.ts.

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

describe('@Roles() on a controller and a handler', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let app: INestApplication
  let url: string
  const get = async (path: string, roles?: string[]) =>
    rawRequest(
      url,
      'GET',
      path,
      roles ? { authorization: `Bearer ${await issuer.mint({ jti: crypto.randomUUID(), roles })}` } : {},
    )

  beforeAll(async () => {
    issuer = await TestIssuer.create()
    sdk = new CoreSDKClient({ env: {}, jwt: issuer.jwtOptions() })
    @Module({
      imports: [CoreSdkModule.forRoot({ sdk, optional: true, globalGuard: true })],
      controllers: [DeskController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false })
    await app.listen(0, '127.0.0.1')
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`
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
