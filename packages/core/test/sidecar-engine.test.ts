import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CoreSDKClient, type SDKConfig } from '../src/index.ts'
import { AUDIENCE, bearer, hsToken, ISSUER, SECRET } from './helpers.ts'

// The sidecar itself is tested end to end in @coresdk/sidecar; here a real HTTP server plays a broken one.
type Behaviour = (req: IncomingMessage, res: ServerResponse) => void

describe('SidecarEngine against a sidecar that misbehaves', () => {
  let server: Server
  let url: string
  let behaviour: Behaviour = (_req, res) => res.end()
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = []
  const client = (config: SDKConfig = {}) =>
    new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: url,
      tenantId: 'acme',
      serviceName: 'svc',
      // Long enough for a loaded machine to answer; the deadline case below sets its own.
      sidecar: { timeout: 2000 },
      ...config,
    })

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
        behaviour(req, res)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('sends the secret and tenant in headers, the end user’s credential only in the body', async () => {
    behaviour = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"ok":true,"user":null,"session":null,"degraded":false,"setCookie":[]}')
    await client({ sidecarSecret: 'k'.repeat(32) }).authenticate({
      authorization: 'Bearer abc.def.ghi',
      userAgent: 'ua',
    })
    const call = seen.at(-1)!
    expect(call).toMatchObject({ method: 'POST', url: '/v1/authenticate' })
    expect(call.headers).toMatchObject({
      'x-coresdk-sidecar-key': 'k'.repeat(32),
      'x-coresdk-tenant': 'acme',
      'content-type': 'application/json',
    })
    expect(call.headers.authorization).toBeUndefined()
    expect(JSON.parse(call.body)).toEqual({
      authorization: 'Bearer abc.def.ghi',
      cookie: null,
      userAgent: 'ua',
      // No peer address was given: none is sent.
      clientAddress: null,
      optional: false,
    })
  })

  it('treats a proxy’s error page, a 502 and garbage as unavailable: 503 sidecar_unavailable with this realm', async () => {
    const sdk = client({ failMode: 'closed' })
    for (const answer of [
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'),
      (_req: IncomingMessage, res: ServerResponse) => res.writeHead(503).end(),
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":'),
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"session":{"id":"nope"}}'),
    ]) {
      behaviour = answer
      const result = await sdk.authenticate({ authorization: 'Bearer abc.def.ghi' })
      expect(result).toMatchObject({
        ok: false,
        problem: { status: 503, body: { code: 'sidecar_unavailable' } },
      })
      if (!result.ok)
        expect(result.problem.headers).toMatchObject({
          'retry-after': '5',
          'content-type': 'application/problem+json',
        })
    }
    await expect(sdk.sessions().listForUser('u')).rejects.toMatchObject({ code: 'sidecar_unavailable' })
  })

  it('gives up at the deadline when the sidecar never answers, and verifies locally when open with jwt settings', async () => {
    behaviour = () => {}
    const closed = client({ failMode: 'closed', sidecar: { timeout: 200 } })
    const started = Date.now()
    expect(await closed.authenticate(bearer(await hsToken()))).toMatchObject({
      ok: false,
      problem: { status: 503 },
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    const open = client({
      failMode: 'open',
      sidecar: { timeout: 200 },
      jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], secret: SECRET },
    })
    expect(await open.authenticate(bearer(await hsToken({ sub: 'usr_local' })))).toMatchObject({
      ok: true,
      degraded: true,
      session: null,
      user: { sub: 'usr_local' },
    })
    expect(await open.authenticate(bearer(await hsToken({ iss: 'https://elsewhere/' })))).toMatchObject({
      ok: false,
      problem: { status: 401, body: { code: 'invalid_token' } },
    })
    const withoutKeys = client({ failMode: 'open', sidecar: { timeout: 200 } })
    expect(await withoutKeys.authenticate(bearer(await hsToken()))).toMatchObject({
      ok: false,
      problem: { status: 503 },
    })
  })

  it('answers a request without any credential locally, without calling the sidecar', async () => {
    const before = seen.length
    const sdk = client()
    expect(await sdk.authenticate({ cookie: 'other=1' })).toMatchObject({
      ok: false,
      problem: { status: 401, body: { code: 'missing_credentials' } },
    })
    expect(await sdk.authenticate({}, { optional: true })).toMatchObject({ ok: true, user: null })
    expect(seen.length).toBe(before)
  })

  it('reads CORESDK_SIDECAR_CACHE_TTL_MS and CORESDK_SIDECAR_TIMEOUT_MS, naming a bad one', () => {
    const env = {
      CORESDK_MODE: 'sidecar',
      CORESDK_SIDECAR_CACHE_TTL_MS: '0',
      CORESDK_SIDECAR_TIMEOUT_MS: '250',
    }
    expect(new CoreSDKClient({ env }).config.sidecar).toEqual({ cacheTtl: 0, timeout: 250 })
    expect(
      new CoreSDKClient({ env: { CORESDK_MODE: 'sidecar', CORESDK_STORE_TIMEOUT_MS: '700' } }).config.sidecar,
    ).toEqual({ cacheTtl: 1000, timeout: 700 })
    expect(() => new CoreSDKClient({ env: { ...env, CORESDK_SIDECAR_TIMEOUT_MS: '5s' } })).toThrow(
      /CORESDK_SIDECAR_TIMEOUT_MS=5s is invalid/,
    )
    expect(() => new CoreSDKClient({ env, sidecar: { cacheTtl: -1 } })).toThrow(/sidecar\.cacheTtl/)
  })
})
