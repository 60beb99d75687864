import { readFile } from 'node:fs/promises'
import { type Claims, CoreSDKClient, type Session } from '@coresdk/core'
import { TestIssuer } from '@coresdk/testing'
import { type Context, Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { type CoreSdkVariables, coreSdkMiddleware, logout } from './index.ts'

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
    for (const file of ['index.ts', 'auth-route.ts', 'require-roles.ts', 'request-client.ts']) {
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
      jwt: {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ['ES256'],
        publicKeys: [issuer.keys.publicPem!],
      },
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
    expect(response.headers.get('set-cookie')).toMatch(/^coresdk_session=;/)
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
