import { type Claims, CoreSDKClient, type Session } from '@coresdk/core'
import { expectProblem, rawRequest, TestIssuer } from '@coresdk/testing'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { coreSdkPlugin } from './index.ts'

declare module '@coresdk/core' {
  interface CoreSdkUserClaims {
    roles?: string[]
  }
}

describe('@coresdk/fastify types', () => {
  it('types coresdk_user, coresdk_session and coresdk_degraded on FastifyRequest', () => {
    expectTypeOf<FastifyRequest['coresdk_user']>().toEqualTypeOf<Claims | null>()
    expectTypeOf<FastifyRequest['coresdk_session']>().toEqualTypeOf<Session | null>()
    expectTypeOf<FastifyRequest['coresdk_degraded']>().toEqualTypeOf<boolean>()
    expectTypeOf<NonNullable<FastifyRequest['coresdk_user']>['roles']>().toEqualTypeOf<string[] | undefined>()
  })
})

describe('per-route settings', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let app: FastifyInstance
  let url: string
  let bodiesParsed = 0

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
    app = Fastify()
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      bodiesParsed++
      done(null, JSON.parse(body as string))
    })
    await app.register(coreSdkPlugin, { sdk })
    app.get('/feed', { config: { coresdk: { optional: true } } }, async (request) => ({
      who: request.coresdk_user?.sub ?? 'anonymous',
    }))
    app.get('/open', { config: { coresdk: { public: true } } }, async (request) => ({
      user: request.coresdk_user,
    }))
    app.post('/upload', async () => ({ ok: true }))
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await app?.close()
    await sdk?.close()
  })

  it('lets an anonymous request through an optional route, but not a bad credential', async () => {
    expect(JSON.parse((await rawRequest(url, 'GET', '/feed')).body)).toEqual({ who: 'anonymous' })
    expectProblem(
      await rawRequest(url, 'GET', '/feed', { authorization: 'Bearer x.y.z' }),
      'invalid_token',
      'coresdk',
    )
  })

  it('skips authentication on a public route, with coresdk_user null', async () => {
    const response = await rawRequest(url, 'GET', '/open', { authorization: 'Bearer x.y.z' })
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({ user: null })
  })

  it('refuses before the body is parsed', async () => {
    const response = await fetch(`${url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
    expect(response.status).toBe(401)
    expect(bodiesParsed).toBe(0)
    const token = await issuer.mint({ sub: 'usr_upload' })
    const ok = await fetch(`${url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"a":1}',
    })
    expect(ok.status).toBe(200)
    expect(bodiesParsed).toBe(1)
  })

  it('refuses to register without a client', async () => {
    await expect(
      Fastify()
        .register(coreSdkPlugin, {} as never)
        .ready(),
    ).rejects.toMatchObject({ code: 'invalid_config' })
  })
})
