import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type Claims, CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { rawRequest, TestIssuer } from '@coresdk/testing'
import { expectProblem, expectThrownProblems } from '@coresdk/testing/vitest'
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

/** Serves an app that `mount` builds over a fresh client, on an ephemeral port of 127.0.0.1, until `close()`. */
async function startApp(mount: (app: express.Express, sdk: CoreSDKClient) => void, serviceName?: string) {
  const issuer = await TestIssuer.create()
  const sdk = new CoreSDKClient({
    env: {},
    ...(serviceName ? { serviceName } : {}),
    jwt: issuer.jwtOptions(),
  })
  const app = express()
  mount(app, sdk)
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { issuer, url, close: () => Promise.all([server.close(), sdk.close()]) }
}

describe('optional authentication with requireAuth()', () => {
  let started: Awaited<ReturnType<typeof startApp>>
  let url: string

  beforeAll(async () => {
    started = await startApp((app, sdk) => {
      app.use(coreSdkMiddleware(sdk, { optional: true }))
      app.get('/feed', (req, res) => {
        res.json({ who: req.coresdk_user?.sub ?? 'anonymous' })
      })
      app.get('/me', requireAuth(), (req, res) => {
        res.json({ who: req.coresdk_user?.sub })
      })
    })
    url = started.url
  })
  afterAll(() => started?.close())

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
    const token = await started.issuer.mint({ sub: 'usr_opt' })
    expect(
      JSON.parse((await rawRequest(url, 'GET', '/me', { authorization: `Bearer ${token}` })).body),
    ).toEqual({ who: 'usr_opt' })
  })

  it('refuses to log out a request the middleware never saw', async () => {
    await expect(logout({} as Request, {} as never)).rejects.toMatchObject({ code: 'invalid_config' })
  })
})

describe('coreSdkErrorHandler()', () => {
  let started: Awaited<ReturnType<typeof startApp>>
  const passedOn: unknown[] = []
  const thrown = new Error('not a CoreSDK error')

  beforeAll(async () => {
    started = await startApp((app, sdk) => {
      app.get('/outside', () => {
        throw new CoreSDKError('store_unavailable')
      })
      app.use(coreSdkMiddleware(sdk, { optional: true }))
      // Thrown from an async route, and from a plain one.
      app.get('/unavailable', async () => Promise.reject(new CoreSDKError('store_unavailable')))
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
    }, 'errors-api')
  })
  afterAll(() => started?.close())

  it('answers a CoreSDKError thrown by a route with core’s problem, in the client’s realm', async () => {
    // expectProblem checks the headers too: the 503's Retry-After among them.
    await expectThrownProblems((path) => rawRequest(started.url, 'GET', path), 'errors-api')
  })

  it('uses the default realm before the middleware ran', async () => {
    expectProblem(await rawRequest(started.url, 'GET', '/outside'), 'store_unavailable', 'coresdk')
  })

  it('passes any other error on to the next handler untouched', async () => {
    const response = await rawRequest(started.url, 'GET', '/boom')
    expect({ status: response.status, body: response.body }).toEqual({ status: 500, body: 'app handler' })
    expect(passedOn).toEqual([thrown])
  })
})

describe('the request properties', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let server: ReturnType<ReturnType<typeof express>['listen']>
  let url: string

  beforeAll(async () => {
    issuer = await TestIssuer.create()
    sdk = new CoreSDKClient({
      env: {},
      jwt: {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ['RS256'],
        publicKeys: [issuer.keys.publicPem!],
      },
    })
    const app = express()
    app.use(coreSdkMiddleware(sdk, { optional: true }))
    const read = (req: Request) => ({
      sub: req.coresdk_user?.sub ?? null,
      session: req.coresdk_session?.id ?? null,
      degraded: req.coresdk_degraded,
      own: Object.keys(req).filter((k) => k.startsWith('coresdk')),
    })
    app.get('/me', (req, res) => void res.json(read(req)))
    // A mounted sub-app gives each request its own prototype: the properties must still read what the middleware found.
    const sub = express()
    sub.get('/me', (req, res) => void res.json(read(req)))
    app.use('/sub', sub)
    app.get('/assign', (req, res) => {
      req.coresdk_user = { ...req.coresdk_user!, sub: 'replaced' }
      req.coresdk_degraded = true
      res.json(read(req))
    })
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server?.close()
    await sdk?.close()
  })

  it('reads the user, session and degraded flag from req.coresdk, in the app and in a mounted sub-app', async () => {
    const token = await issuer.mint({ sub: 'ada', sid: 'idp-1' })
    const headers = { authorization: `Bearer ${token}` }
    for (const path of ['/me', '/sub/me']) {
      const body = await (await fetch(`${url}${path}`, { headers })).json()
      expect(body).toMatchObject({ sub: 'ada', degraded: false, own: ['coresdk'] })
      expect(body.session).toEqual(expect.any(String))
    }
    expect(await (await fetch(`${url}/me`)).json()).toEqual({
      sub: null,
      session: null,
      degraded: false,
      own: ['coresdk'],
    })
  })

  it('lets a handler assign them, as plain properties of that request', async () => {
    const token = await issuer.mint({ sub: 'ada' })
    const body = await (
      await fetch(`${url}/assign`, { headers: { authorization: `Bearer ${token}` } })
    ).json()
    expect(body).toMatchObject({ sub: 'replaced', degraded: true })
    expect(body.own).toEqual(expect.arrayContaining(['coresdk', 'coresdk_user', 'coresdk_degraded']))
    // The next request is untouched by the assignment.
    expect(
      (await (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })).json()).sub,
    ).toBe('ada')
  })
})
