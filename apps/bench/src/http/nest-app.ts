import 'reflect-metadata'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CoreSdkGuard, CoreSdkModule } from '@coresdk/nestjs'
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { JwtModule, JwtService } from '@nestjs/jwt'
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify'
import { BARE_BODY, type MeBody } from '../fixture.ts'
import type { AppContext, RunningApp } from './apps.ts'

interface AuthedRequest {
  headers: Record<string, string | string[] | undefined>
  user?: { sub?: string; email?: string }
  coresdk_user?: { sub?: string; email?: string } | null
  coresdk_session?: { id: string } | null
}

function body(claims: { sub?: string; email?: string } | null | undefined, sessionId: string | null): MeBody {
  return { sub: String(claims?.sub ?? ''), email: claims?.email ?? null, session_id: sessionId }
}

// Every variant's handler takes the request, as the CoreSDK one must to read the user: Nest resolves a handler's
// parameters on every request, which is the app's cost, not the guard's.
@Controller('api')
class BareController {
  @Get('me')
  me(@Req() _req: AuthedRequest): MeBody {
    return BARE_BODY
  }
}

@Controller('api')
@UseGuards(CoreSdkGuard)
class CoreSdkController {
  @Get('me')
  me(@Req() req: AuthedRequest): MeBody {
    return body(req.coresdk_user, req.coresdk_session?.id ?? null)
  }
}

/** A guard that lets everything through: what any guard costs. */
@Injectable()
class EmptyGuard implements CanActivate {
  async canActivate(): Promise<boolean> {
    return true
  }
}

@Controller('api')
@UseGuards(EmptyGuard)
class EmptyController {
  @Get('me')
  me(@Req() _req: AuthedRequest): MeBody {
    return BARE_BODY
  }
}

/** The guard a Nest user writes around `@nestjs/jwt`, as its documentation shows. */
@Injectable()
class JwtAuthGuard implements CanActivate {
  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>()
    const [type, token] = String(req.headers.authorization ?? '').split(' ')
    if (type !== 'Bearer' || !token) throw new UnauthorizedException()
    try {
      req.user = await this.jwt.verifyAsync(token)
    } catch {
      throw new UnauthorizedException()
    }
    return true
  }
}

@Controller('api')
@UseGuards(JwtAuthGuard)
class JwtController {
  @Get('me')
  me(@Req() req: AuthedRequest): MeBody {
    return body(req.user, null)
  }
}

/** Starts the Nest app for one variant, on the Express or the Fastify platform. */
export async function startNestApp(
  { variant, fixture, sdk }: AppContext,
  platform: 'express' | 'fastify',
): Promise<RunningApp> {
  let root: new () => unknown
  if (variant === 'bare') {
    @Module({ controllers: [BareController] })
    class BareModule {}
    root = BareModule
  } else if (variant === 'empty') {
    @Module({ controllers: [EmptyController], providers: [EmptyGuard] })
    class EmptyModule {}
    root = EmptyModule
  } else if (variant === 'usual') {
    @Module({
      imports: [
        JwtModule.register({
          publicKey: fixture.publicPem,
          verifyOptions: { algorithms: ['RS256'], issuer: fixture.issuer, audience: fixture.audience },
        }),
      ],
      controllers: [JwtController],
      providers: [JwtAuthGuard],
    })
    class JwtAppModule {}
    root = JwtAppModule
  } else {
    @Module({ imports: [CoreSdkModule.forRoot({ sdk: sdk! })], controllers: [CoreSdkController] })
    class CoreSdkAppModule {}
    root = CoreSdkAppModule
  }
  const app =
    platform === 'express'
      ? await NestFactory.create(root, { logger: false })
      : await NestFactory.create<NestFastifyApplication>(root, new FastifyAdapter(), { logger: false })
  await app.listen(0, '127.0.0.1')
  const server = app.getHttpServer() as Server
  return { server, port: (server.address() as AddressInfo).port, close: () => app.close() }
}
