import 'reflect-metadata'
import type { CoreSDKClient } from '@coresdk/core'
import { CoreSdkGuard, CoreSdkModule } from '@coresdk/nestjs'
import type { OidcHandlers } from '@coresdk/oidc'
import { type INestApplication, Module, type Type, UseGuards } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { ApiController, LogoutController, REPORT_DEGRADED } from './api.controller.ts'
import { OIDC_HANDLERS, OidcController } from './auth.controller.ts'
import { StaffController } from './staff.controller.ts'

/** Options of {@link createApp}; without any, the app serves the example API (DESIGN §7) on platform Express. */
export interface AppOptions {
  /** The HTTP platform under Nest. @default 'express' */
  platform?: 'express' | 'fastify'
  /**
   * How CoreSDK is wired in. `'global'`: `CoreSdkModule.forRoot()` with `CoreSdkGuard` as a global guard, routes
   * opting out with `@Public()`. `'controllers'`: `CoreSdkModule.forRootAsync()` (the options from a factory, as from
   * `ConfigService`) and `@UseGuards(CoreSdkGuard)` on each controller. @default 'global'
   */
  wiring?: 'global' | 'controllers'
  /** Nest's own body parser (platform Express); `authRoute` reads the forms it needs either way. @default true */
  bodyParser?: boolean
  /**
   * Sign-in through an OpenID provider: `GET /auth/login`, `GET /auth/callback` and `POST /auth/backchannel-logout`,
   * and `POST /auth/logout` (`-all`) ending the provider's session too.
   */
  oidc?: OidcHandlers
  /** Serve the staff routes, checked by role: `/api/staff`, `/api/audit` and `/public/staff`. @default false */
  staff?: boolean
  /** Add `degraded` to `/api/me`: true when the request passed while the session store was unreachable. @default false */
  degraded?: boolean
}

/** `controller` with `@UseGuards(CoreSdkGuard)`, leaving the class itself as it is. */
function guarded(controller: Type): Type {
  // The class's path and routes are inherited.
  @UseGuards(CoreSdkGuard)
  class Guarded extends controller {}
  // Nest tells controllers apart by class, and names them in its logs: keep the original name.
  Object.defineProperty(Guarded, 'name', { value: controller.name })
  return Guarded
}

/** The example API (DESIGN §7) on NestJS, protected by CoreSDK's guard. */
export async function createApp(sdk: CoreSDKClient, options: AppOptions = {}): Promise<INestApplication> {
  const {
    platform = 'express',
    wiring = 'global',
    bodyParser = true,
    oidc,
    staff = false,
    degraded = false,
  } = options
  const controllers: Type[] = [ApiController, oidc ? OidcController : LogoutController]
  if (staff) controllers.push(StaffController)
  const moduleOptions = { sdk, publicPaths: staff ? ['/public/*'] : [] }
  // The module also registers CoreSdkExceptionFilter: a CoreSDKError thrown by a handler (the store down, a 404)
  // answers with core's problem.
  @Module({
    imports: [
      wiring === 'global'
        ? CoreSdkModule.forRoot({ ...moduleOptions, globalGuard: true })
        : CoreSdkModule.forRootAsync({ useFactory: async () => moduleOptions }),
    ],
    controllers: wiring === 'global' ? controllers : controllers.map(guarded),
    providers: [
      { provide: REPORT_DEGRADED, useValue: degraded },
      { provide: OIDC_HANDLERS, useValue: oidc ?? null },
    ],
  })
  class AppModule {}
  const logger = ['error', 'warn'] as const
  if (platform === 'fastify')
    return NestFactory.create(AppModule, new FastifyAdapter(), { logger: [...logger] })
  return NestFactory.create(AppModule, { logger: [...logger], bodyParser })
}
