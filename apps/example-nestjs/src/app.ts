import 'reflect-metadata'
import type { CoreSDKClient } from '@coresdk/core'
import { CoreSdkModule } from '@coresdk/nestjs'
import { type INestApplication, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ApiController } from './api.controller.ts'

/** The example API (DESIGN §7) on NestJS (platform Express), with `CoreSdkGuard` as a global guard. */
export async function createApp(sdk: CoreSDKClient): Promise<INestApplication> {
  // The module also registers CoreSdkExceptionFilter: a CoreSDKError thrown by a handler (the store down, a 404)
  // answers with core's problem.
  @Module({ imports: [CoreSdkModule.forRoot({ sdk, globalGuard: true })], controllers: [ApiController] })
  class AppModule {}
  return NestFactory.create(AppModule, { logger: ['error', 'warn'] })
}
