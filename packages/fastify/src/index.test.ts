import { type Claims, CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { rawRequest, TestIssuer } from '@coresdk/testing'
import { expectProblem, expectThrownProblems } from '@coresdk/testing/vitest'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { coreSdkErrorHandler, coreSdkPlugin } from './index.ts'

describe('@coresdk/fastify types', () => {
  it('types coresdk_user, coresdk_session and coresdk_degraded on FastifyRequest, read-only', () => {
    type Fields = Pick<FastifyRequest, 'coresdk_user' | 'coresdk_session' | 'coresdk_degraded'>
    // Exactly core's Claims: an app's augmentation of CoreSdkUserClaims reaches the request (as the Express test shows).
    expectTypeOf<Fields>().toEqualTypeOf<
      Readonly<{ coresdk_user: Claims | null; coresdk_session: Session | null; coresdk_degraded: boolean }>
    >()
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
      jwt: issuer.jwtOptions(),
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

describe('coreSdkErrorHandler', () => {
  let issuer: TestIssuer
  let sdk: CoreSDKClient
  let app: FastifyInstance
  let url: string

  beforeAll(async () => {
    issuer = await TestIssuer.create()
    sdk = new CoreSDKClient({
      env: {},
      serviceName: 'errors-api',
      jwt: issuer.jwtOptions(),
    })
    app = Fastify()
    await app.register(coreSdkPlugin, { sdk, optional: true })
    app.setErrorHandler(coreSdkErrorHandler)
    app.get('/unavailable', async () => {
      throw new CoreSDKError('store_unavailable')
    })
    app.get('/missing', async () => {
      throw new CoreSDKError('session_not_found')
    })
    app.get('/boom', async () => {
      throw new Error('not a CoreSDK error')
    })
    app.get('/teapot', async () => {
      throw Object.assign(new Error('short and stout'), { statusCode: 418 })
    })
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await app?.close()
    await sdk?.close()
  })

  it('answers a CoreSDKError thrown by a route with core’s problem, in the client’s realm', async () => {
    await expectThrownProblems((path) => rawRequest(url, 'GET', path), 'errors-api')
  })

  it('leaves any other error to Fastify’s default handler', async () => {
    const boom = await rawRequest(url, 'GET', '/boom')
    expect(boom.status).toBe(500)
    expect(boom.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(boom.body)).toMatchObject({ statusCode: 500, error: 'Internal Server Error' })
    const teapot = await rawRequest(url, 'GET', '/teapot')
    expect({ status: teapot.status, body: JSON.parse(teapot.body) }).toEqual({
      status: 418,
      body: { statusCode: 418, error: "I'm a Teapot", message: 'short and stout' },
    })
  })
})
