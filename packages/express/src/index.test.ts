import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type Claims, CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { rawRequest, TestIssuer } from '@coresdk/testing'
import { expectProblem } from '@coresdk/testing/vitest'
import express, { type Request } from 'express'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { coreSdkErrorHandler, coreSdkMiddleware, logout, requireAuth } from './index.ts'

declare module '@coresdk/core' {
  interface CoreSdkUserClaims {
    roles?: string[]
  }
}

describe('@coresdk/express types', () => {
  it('types coresdk_user, coresdk_session and coresdk_degraded on every Express request', () => {
    type Fields = Pick<Request, 'coresdk_user' | 'coresdk_session' | 'coresdk_degraded'>
    expectTypeOf<Fields>().toEqualTypeOf<{
      coresdk_user: Claims | null
      coresdk_session: Session | null
      coresdk_degraded: boolean
    }>()
    // The claims are narrowed through the augmentable CoreSdkUserClaims interface.
    expectTypeOf<NonNullable<Request['coresdk_user']>>()
      .toHaveProperty('roles')
      .toEqualTypeOf<string[] | undefined>()
  })
})

/** Serves `app` on an ephemeral port of 127.0.0.1. */
async function listen(app: express.Express): Promise<{ url: string; close: () => void }> {
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }
}

describe('optional authentication with requireAuth()', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let server: Awaited<ReturnType<typeof listen>>
  let url: string

  beforeAll(async () => {
    issuer = await TestIssuer.create()
    sdk = new CoreSDKClient({
      env: {},
      jwt: issuer.jwtOptions(),
    })
    const app = express()
    app.use(coreSdkMiddleware(sdk, { optional: true }))
    app.get('/feed', (req, res) => {
      res.json({ who: req.coresdk_user?.sub ?? 'anonymous' })
    })
    app.get('/me', requireAuth(), (req, res) => {
      res.json({ who: req.coresdk_user?.sub })
    })
    server = await listen(app)
    url = server.url
  })
  afterAll(async () => {
    server?.close()
    await sdk?.close()
  })

  it('lets an anonymous request through where the route allows it', async () => {
    expect(JSON.parse((await rawRequest(url, 'GET', '/feed')).body)).toEqual({ who: 'anonymous' })
  })

  it('refuses an anonymous request on a requireAuth() route with the 401 problem', async () => {
    expectProblem(await rawRequest(url, 'GET', '/me'), 'missing_credentials', 'coresdk')
  })

  it('still refuses a bad credential, and passes a good one', async () => {
    expectProblem(
      await rawRequest(url, 'GET', '/feed', { authorization: 'Bearer not.a.jwt' }),
      'invalid_token',
      'coresdk',
    )
    const token = await issuer.mint({ sub: 'usr_opt' })
    expect(
      JSON.parse((await rawRequest(url, 'GET', '/me', { authorization: `Bearer ${token}` })).body),
    ).toEqual({ who: 'usr_opt' })
  })

  it('refuses to log out a request the middleware never saw', async () => {
    await expect(logout({} as Request, {} as never)).rejects.toMatchObject({ code: 'invalid_config' })
  })
})

describe('coreSdkErrorHandler()', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let server: Awaited<ReturnType<typeof listen>>
  let url: string
  const passedOn: unknown[] = []
  const thrown = new Error('not a CoreSDK error')

  beforeAll(async () => {
    issuer = await TestIssuer.create()
    sdk = new CoreSDKClient({
      env: {},
      serviceName: 'errors-api',
      jwt: issuer.jwtOptions(),
    })
    const app = express()
    app.get('/outside', () => {
      throw new CoreSDKError('store_unavailable')
    })
    app.use(coreSdkMiddleware(sdk, { optional: true }))
    app.get('/unavailable', async () => {
      throw new CoreSDKError('store_unavailable')
    })
    app.get('/missing', () => {
      throw new CoreSDKError('session_not_found')
    })
    app.get('/boom', () => {
      throw thrown
    })
    app.use(coreSdkErrorHandler())
    app.use((err: unknown, _req: Request, res: express.Response, _next: express.NextFunction) => {
      passedOn.push(err)
      res.status(500).type('text/plain').send('app handler')
    })
    server = await listen(app)
    url = server.url
  })
  afterAll(async () => {
    server?.close()
    await sdk?.close()
  })

  it('answers a CoreSDKError thrown by a route with core’s problem, in the client’s realm', async () => {
    const unavailable = await rawRequest(url, 'GET', '/unavailable')
    expectProblem(unavailable, 'store_unavailable', 'errors-api')
    expect(unavailable.headers['retry-after']).toBe('5')
    expectProblem(await rawRequest(url, 'GET', '/missing'), 'session_not_found', 'errors-api')
  })

  it('uses the default realm before the middleware ran', async () => {
    expectProblem(await rawRequest(url, 'GET', '/outside'), 'store_unavailable', 'coresdk')
  })

  it('passes any other error on to the next handler untouched', async () => {
    const response = await rawRequest(url, 'GET', '/boom')
    expect({ status: response.status, body: response.body }).toEqual({ status: 500, body: 'app handler' })
    expect(passedOn).toEqual([thrown])
  })
})
