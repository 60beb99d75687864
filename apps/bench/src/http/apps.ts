import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CoreSDKClient } from '@coresdk/core'
import type { Context } from 'hono'
import { BARE_BODY, type Fixture, type MeBody } from '../fixture.ts'
import type { Framework, Variant } from './variants.ts'

/** A running app: its Node HTTP server and how to stop it. */
export interface RunningApp {
  server: Server
  port: number
  close(): Promise<void>
}

/** What an app builder gets: the variant, the fixture, and the CoreSDK client for the CoreSDK variants. */
export interface AppContext {
  variant: Variant
  fixture: Fixture
  sdk: CoreSDKClient | undefined
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port
}

function claimsBody(
  claims: { sub?: unknown; email?: unknown } | undefined,
  sessionId: string | null,
): MeBody {
  return {
    sub: String(claims?.sub ?? ''),
    email: typeof claims?.email === 'string' ? claims.email : null,
    session_id: sessionId,
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.()
    server.close(() => resolve())
  })
}

async function express({ variant, fixture, sdk }: AppContext): Promise<RunningApp> {
  const { default: createApp } = await import('express')
  const app = createApp()
  app.disable('x-powered-by')
  if (variant === 'bare' || variant === 'empty') {
    if (variant === 'empty') app.use(async (_req, _res, next) => next())
    app.get('/api/me', (_req, res) => void res.json(BARE_BODY))
  } else if (variant === 'usual') {
    const { expressjwt } = await import('express-jwt')
    app.use(
      expressjwt({
        secret: fixture.publicPem,
        algorithms: ['RS256'],
        issuer: fixture.issuer,
        audience: fixture.audience,
      }),
    )
    app.get('/api/me', (req, res) => {
      const auth = (req as unknown as { auth?: { sub?: string; email?: string } }).auth
      res.json(claimsBody(auth, null))
    })
    // express-jwt reports a refusal as an error: answer it the way its documentation shows, without a log line.
    app.use(
      (
        error: { status?: number },
        _req: unknown,
        res: { status(code: number): { json(body: unknown): void } },
        next: (e?: unknown) => void,
      ) => {
        if (error?.status === 401) return void res.status(401).json({ error: 'invalid_token' })
        next(error)
      },
    )
  } else {
    const { coreSdkMiddleware } = await import('@coresdk/express')
    app.use(coreSdkMiddleware(sdk!))
    app.get(
      '/api/me',
      (req, res) => void res.json(claimsBody(req.coresdk_user ?? undefined, req.coresdk_session?.id ?? null)),
    )
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)))
  })
  return { server, port: portOf(server), close: () => closeServer(server) }
}

async function fastify({ variant, fixture, sdk }: AppContext): Promise<RunningApp> {
  const { default: createApp } = await import('fastify')
  const app = createApp({ logger: false })
  if (variant === 'bare' || variant === 'empty') {
    if (variant === 'empty') app.addHook('onRequest', async () => {})
    app.get('/api/me', async () => BARE_BODY)
  } else if (variant === 'usual') {
    const { default: fastifyJwt } = await import('@fastify/jwt')
    await app.register(fastifyJwt, {
      secret: { public: fixture.publicPem },
      verify: { algorithms: ['RS256'], allowedIss: fixture.issuer, allowedAud: fixture.audience },
    })
    app.addHook('onRequest', async (request) => {
      await request.jwtVerify()
    })
    app.get('/api/me', async (request) => claimsBody(request.user as { sub?: string; email?: string }, null))
  } else {
    const { coreSdkPlugin } = await import('@coresdk/fastify')
    await app.register(coreSdkPlugin, { sdk: sdk! })
    app.get('/api/me', async (request) =>
      claimsBody(request.coresdk_user ?? undefined, request.coresdk_session?.id ?? null),
    )
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { server: app.server, port: portOf(app.server), close: () => app.close() }
}

async function hono({ variant, fixture, sdk }: AppContext): Promise<RunningApp> {
  const { Hono } = await import('hono')
  const { serve } = await import('@hono/node-server')
  const app = new Hono()
  if (variant === 'bare' || variant === 'empty') {
    if (variant === 'empty') app.use('/api/*', async (_c, next) => await next())
    app.get('/api/me', (c) => c.json(BARE_BODY))
  } else if (variant === 'usual') {
    const { jwk } = await import('hono/jwk')
    app.use(
      '/api/*',
      jwk({
        keys: [fixture.publicJwk as never],
        alg: ['RS256'],
        verification: { iss: fixture.issuer, aud: fixture.audience },
      }),
    )
    app.get('/api/me', (c) => c.json(claimsBody(c.get('jwtPayload' as never) as { sub?: string }, null)))
  } else {
    const { coreSdkMiddleware, withCoreSdk } = await import('@coresdk/hono')
    const me = (c: Context) =>
      c.json(claimsBody(c.get('coresdk_user') ?? undefined, c.get('coresdk_session')?.id ?? null))
    if (variant === 'coresdk-per-route') app.get('/api/me', withCoreSdk(sdk!)(me))
    else {
      app.use('/api/*', coreSdkMiddleware(sdk!))
      app.get('/api/me', me)
    }
  }
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(s as Server),
    ) as Server
  })
  return { server, port: portOf(server), close: () => closeServer(server) }
}

async function nestjs(context: AppContext): Promise<RunningApp> {
  const { startNestApp } = await import('./nest-app.ts')
  return startNestApp(context, 'express')
}

async function nestjsFastify(context: AppContext): Promise<RunningApp> {
  const { startNestApp } = await import('./nest-app.ts')
  return startNestApp(context, 'fastify')
}

/** Builds and starts one variant of one framework's app on 127.0.0.1 (an ephemeral port). */
export const APP_BUILDERS: Record<Framework, (context: AppContext) => Promise<RunningApp>> = {
  express,
  fastify,
  hono,
  nestjs,
  'nestjs-fastify': nestjsFastify,
}
