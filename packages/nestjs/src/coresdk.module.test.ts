import 'reflect-metadata'
import { type Claims, CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { rawRequest, TestIssuer } from '@coresdk/testing'
import { expectProblem } from '@coresdk/testing/vitest'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { CORESDK_CLIENT, type CoreSdkRequest } from './coresdk.constants.ts'
import { CoreSdkModule } from './coresdk.module.ts'
import { CoreSdkService } from './coresdk.service.ts'

declare module '@coresdk/core' {
  interface CoreSdkUserClaims {
    roles?: string[]
  }
}

async function jwtConfig() {
  const issuer = await TestIssuer.create()
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    algorithms: ['RS256' as const],
    publicKeys: [issuer.keys.publicPem!],
  }
}

async function contextWith(imports: Parameters<typeof Module>[0]['imports']) {
  @Module({ imports })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })
}

function watchClose(client: CoreSDKClient): { closed: boolean } {
  const seen = { closed: false }
  const close = client.close.bind(client)
  client.close = () => {
    seen.closed = true
    return close()
  }
  return seen
}

describe('@coresdk/nestjs types', () => {
  it('types what the guard leaves on the request', () => {
    expectTypeOf<CoreSdkRequest['coresdk_user']>().toEqualTypeOf<Claims | null | undefined>()
    expectTypeOf<CoreSdkRequest['coresdk_session']>().toEqualTypeOf<Session | null | undefined>()
    expectTypeOf<NonNullable<CoreSdkRequest['coresdk_user']>['roles']>().toEqualTypeOf<string[] | undefined>()
  })
})

describe('CoreSdkModule', () => {
  it('provides the client it was given, and leaves closing it to its owner', async () => {
    const sdk = new CoreSDKClient({ env: {}, jwt: await jwtConfig() })
    const app = await contextWith([CoreSdkModule.forRoot({ sdk })])
    expect(app.get(CORESDK_CLIENT)).toBe(sdk)
    expect(app.get(CoreSdkService).sdk).toBe(sdk)
    const seen = watchClose(sdk)
    await app.close()
    expect(seen.closed).toBe(false)
    await sdk.close()
  })

  it('builds a client from config (forRootAsync) and closes it on shutdown', async () => {
    const jwt = await jwtConfig()
    const app = await contextWith([
      CoreSdkModule.forRootAsync({
        useFactory: async () => ({ config: { env: {}, tenantId: 'acme', jwt } }),
      }),
    ])
    const client = app.get<CoreSDKClient>(CORESDK_CLIENT)
    expect(client).toBeInstanceOf(CoreSDKClient)
    expect(client.config.tenantId).toBe('acme')
    const seen = watchClose(client)
    await app.close()
    expect(seen.closed).toBe(true)
  })

  it('fails at startup, naming what is missing, without sdk or config', async () => {
    await expect(contextWith([CoreSdkModule.forRoot({})])).rejects.toMatchObject({ code: 'invalid_config' })
  })
})

describe('CoreSdkExceptionFilter', () => {
  @Controller()
  class FailingController {
    @Get('unavailable')
    async unavailable() {
      throw new CoreSDKError('store_unavailable')
    }

    @Get('refused')
    refused() {
      throw new CoreSDKError('invalid_token')
    }

    @Get('boom')
    boom() {
      throw new Error('not a CoreSDK error')
    }
  }

  for (const platform of ['express', 'fastify'] as const) {
    it(`answers a CoreSDKError thrown by a handler with core’s problem in the client’s realm (${platform})`, async () => {
      const sdk = new CoreSDKClient({ env: {}, serviceName: 'errors-api', jwt: await jwtConfig() })
      @Module({
        imports: [CoreSdkModule.forRoot({ sdk, optional: true, globalGuard: true })],
        controllers: [FailingController],
      })
      class AppModule {}
      const app =
        platform === 'express'
          ? await NestFactory.create(AppModule, { logger: false })
          : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
      try {
        await app.listen(0, '127.0.0.1')
        const url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
        const unavailable = await rawRequest(url, 'GET', '/unavailable')
        expectProblem(unavailable, 'store_unavailable', 'errors-api')
        expect(unavailable.headers['retry-after']).toBe('5')
        const refused = await rawRequest(url, 'GET', '/refused')
        expectProblem(refused, 'invalid_token', 'errors-api')
        // Any other error is still Nest's own answer.
        const boom = await rawRequest(url, 'GET', '/boom')
        expect({ status: boom.status, body: JSON.parse(boom.body) }).toEqual({
          status: 500,
          body: { statusCode: 500, message: 'Internal server error' },
        })
      } finally {
        await app.close()
        await sdk.close()
      }
    })
  }
})
