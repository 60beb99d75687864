import { readFile } from 'node:fs/promises'
import { type Claims, CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { type RecordedResponse, TestIssuer } from '@coresdk/testing'
import { expectProblem, expectThrownProblems } from '@coresdk/testing/vitest'
import { type Context, Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { type CoreSdkVariables, coreSdkErrorHandler, coreSdkMiddleware, logout } from './index.ts'

declare module '@coresdk/core' {
  interface CoreSdkUserClaims {
    roles?: string[]
  }
}

describe('@coresdk/hono types', () => {
  it('types the variables through CoreSdkVariables and ContextVariableMap', () => {
    expectTypeOf<CoreSdkVariables['coresdk_user']>().toEqualTypeOf<Claims | null>()
    expectTypeOf<CoreSdkVariables['coresdk_session']>().toEqualTypeOf<Session | null>()
    // Without the Variables generic, ContextVariableMap still types c.get().
    expectTypeOf<ReturnType<Context['get']>>().not.toBeAny()
    const typed = (c: Context) => c.get('coresdk_user')
    expectTypeOf(typed).returns.toEqualTypeOf<Claims | null>()
    expectTypeOf<NonNullable<CoreSdkVariables['coresdk_user']>['roles']>().toEqualTypeOf<
      string[] | undefined
    >()
  })

  it('imports nothing from Node, so it runs on every Hono runtime', async () => {
    for (const file of ['index.ts']) {
      const source = await readFile(new URL(`./${file}`, import.meta.url), 'utf8')
      expect(source, file).not.toMatch(/from '(node:|fs|http|path|crypto)/)
      expect(source, file).not.toMatch(/\b(process|Buffer)\./)
    }
  })
})

describe('in-process requests (app.request, no server)', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  const app = new Hono()

  beforeAll(async () => {
    issuer = await TestIssuer.create({ alg: 'ES256' })
    sdk = new CoreSDKClient({
      env: {},
      jwt: issuer.jwtOptions(),
    })
    app.use('/feed', coreSdkMiddleware(sdk, { optional: true }))
    app.use('/api/*', coreSdkMiddleware(sdk))
    app.get('/feed', (c) => c.json({ who: c.get('coresdk_user')?.sub ?? 'anonymous' }))
    app.get('/api/me', (c) => c.json({ who: c.get('coresdk_user')?.sub }))
    app.post('/api/logout', async (c) => {
      const result = await logout(c)
      return c.json({ revoked: result.revoked })
    })
  })
  afterAll(() => sdk?.close())

  it('answers anonymous on an optional route and the problem on a protected one', async () => {
    expect(await (await app.request('/feed')).json()).toEqual({ who: 'anonymous' })
    const refused = await app.request('/api/me')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
  })

  it('logs out through the helper and sets the clearing cookie on the handler’s response', async () => {
    const authorization = `Bearer ${await issuer.mint({ sub: 'usr_hono', jti: 'hono-1' })}`
    expect(await (await app.request('/api/me', { headers: { authorization } })).json()).toEqual({
      who: 'usr_hono',
    })
    const response = await app.request('/api/logout', { method: 'POST', headers: { authorization } })
    expect(await response.json()).toEqual({ revoked: 1 })
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`^${sdk.config.sessions.cookie.name}=;`))
    expect((await app.request('/api/me', { headers: { authorization } })).status).toBe(401)
  })

  it('refuses to log out a request the middleware never saw', async () => {
    const bare = new Hono()
    bare.get('/x', async (c) => {
      await logout(c)
      return c.text('no')
    })
    bare.onError((error, c) => c.json({ code: (error as { code?: string }).code }, 500))
    expect(await (await bare.request('/x')).json()).toEqual({ code: 'invalid_config' })
  })
})

describe('coreSdkErrorHandler', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  const withHandler = new Hono()
  const withDefault = new Hono()
  const thrown = new Error('not a CoreSDK error')

  const recorded = async (response: Response): Promise<RecordedResponse> => {
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    return { status: response.status, headers, body: await response.text(), elapsed: 0 }
  }

  beforeAll(async () => {
    issuer = await TestIssuer.create({ alg: 'ES256' })
    sdk = new CoreSDKClient({
      env: {},
      serviceName: 'errors-api',
      jwt: issuer.jwtOptions(),
    })
    for (const app of [withHandler, withDefault]) {
      app.get('/outside', () => {
        throw new CoreSDKError('store_unavailable')
      })
      app.use('/api/*', coreSdkMiddleware(sdk, { optional: true }))
      app.get('/api/unavailable', async () => {
        throw new CoreSDKError('store_unavailable')
      })
      app.get('/api/missing', () => {
        throw new CoreSDKError('session_not_found')
      })
      app.get('/api/boom', () => {
        throw thrown
      })
      app.get('/api/teapot', () => {
        throw new HTTPException(418, { message: 'short and stout' })
      })
    }
    withHandler.onError(coreSdkErrorHandler)
  })
  afterAll(() => sdk?.close())

  it('answers a CoreSDKError thrown by a route with core’s problem, in the client’s realm', async () => {
    await expectThrownProblems(
      async (path) => recorded(await withHandler.request(`/api${path}`)),
      'errors-api',
    )
    expectProblem(await recorded(await withHandler.request('/outside')), 'store_unavailable', 'coresdk')
  })

  it('answers any other error exactly as Hono’s default handler does', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      for (const path of ['/api/boom', '/api/teapot']) {
        const ours = await recorded(await withHandler.request(path))
        const hono = await recorded(await withDefault.request(path))
        expect({ ...ours, headers: ours.headers['content-type'] }, path).toEqual({
          ...hono,
          headers: hono.headers['content-type'],
        })
      }
      expect((await withHandler.request('/api/boom')).status).toBe(500)
      expect((await withHandler.request('/api/teapot')).status).toBe(418)
      // Hono logs an unexpected error; so does the handler, once per request.
      expect(logged.mock.calls.filter(([error]) => error === thrown)).toHaveLength(3)
    } finally {
      logged.mockRestore()
    }
  })
})
