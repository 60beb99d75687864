import 'reflect-metadata'
import { type Claims, CoreSDKClient, type Session } from '@coresdk/core'
import { TestIssuer } from '@coresdk/testing'
import { Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
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
