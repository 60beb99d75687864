import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  api,
  bearer,
  type Identity,
  SECRET,
  type SidecarProcess,
  startIdentity,
  startSidecar,
} from './helpers.ts'

const SESSION_ID = /^sess_[0-9A-HJKMNP-TV-Z]{26}$/
// The sidecar below is configured by environment only: its session cookie has the default (secure) name.
const COOKIE = '__Host-coresdk_session'

describe('the sidecar HTTP API, end to end against a real sidecar process', () => {
  let identity: Identity
  let sidecar: SidecarProcess
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    api(sidecar.url, method, path, body, { 'x-coresdk-sidecar-key': SECRET, ...headers })

  beforeAll(async () => {
    identity = await startIdentity()
    sidecar = await startSidecar({
      ...identity.env,
      CORESDK_TENANT_ID: 'acme',
      CORESDK_SIDECAR_SECRET: SECRET,
      CORESDK_SIDECAR_EXPOSE_TOKENS: '1',
      CORESDK_SIDECAR_BODY_LIMIT: '4096',
    })
  })
  afterAll(async () => {
    await sidecar?.stop()
    await identity?.close()
  })

  it('answers liveness and readiness', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } })
    expect(await call('GET', '/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } })
  })

  it('serves the OpenAPI 3.1 document kept in the repository (openapi.test.ts checks it against the protocol)', async () => {
    const response = await call('GET', '/openapi.json')
    expect(response.status).toBe(200)
    const file = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'))
    expect(response.json).toEqual(file)
    expect(response.json.openapi).toBe('3.1.0')
  })

  it('authorizes a valid token and refuses a forged one with the one invalid_token body', async () => {
    const token = await identity.issuer.mint({ sub: 'usr_authz', email: 'a@example.com' })
    const ok = await call('POST', '/v1/authorize', { token })
    expect(ok.status).toBe(200)
    expect(ok.json).toMatchObject({
      allowed: true,
      reason: null,
      problem: null,
      claims: { sub: 'usr_authz', email: 'a@example.com' },
    })
    const forged = `${token.slice(0, -4)}AAAA`
    const refused = await call('POST', '/v1/authorize', { token: forged })
    expect(refused.status).toBe(200)
    expect(refused.json).toMatchObject({
      allowed: false,
      claims: null,
      problem: { status: 401, body: { code: 'invalid_token' } },
    })
    expect(refused.text).not.toContain(forged)
  })

  it('authenticates a bearer token: one session per token, created on first sight, with the session serialised', async () => {
    const token = await identity.issuer.mint({ sub: 'usr_authn', email: 'n@example.com', jti: 'jti-authn' })
    const first = await call('POST', '/v1/authenticate', {
      authorization: bearer(token),
      userAgent: 'curl/8',
    })
    expect(first.status).toBe(200)
    expect(first.json).toMatchObject({ ok: true, degraded: false, setCookie: [], user: { sub: 'usr_authn' } })
    const session = first.json.session as Record<string, unknown>
    expect(session).toMatchObject({
      userId: 'usr_authn',
      tenantId: 'acme',
      origin: 'token',
      active: true,
      revokedAt: null,
      meta: { userAgent: 'curl/8' },
    })
    expect(session.id).toMatch(SESSION_ID)
    for (const field of ['createdAt', 'lastSeenAt', 'expiresAt', 'absoluteExpiresAt'])
      expect(Date.parse(session[field] as string)).not.toBeNaN()
    expect(session.claims).toMatchObject({ sub: 'usr_authn', email: 'n@example.com' })
    // No secret on the wire: the key of a token without sid or jti is a digest of it, never the token.
    expect(JSON.stringify(session)).not.toMatch(/secretHash|"tokens"/)
    expect(first.text).not.toContain(token.split('.')[2])
    const again = await call('POST', '/v1/authenticate', { authorization: bearer(token) })
    expect((again.json.session as { id: string }).id).toBe(session.id)
  })

  it('answers a refused credential with ok:false and the problem to send (200: the call itself worked)', async () => {
    const none = await call('POST', '/v1/authenticate', {})
    expect(none.json).toMatchObject({
      ok: false,
      problem: { status: 401, body: { code: 'missing_credentials' } },
    })
    const anonymous = await call('POST', '/v1/authenticate', { optional: true })
    expect(anonymous.json).toEqual({
      ok: true,
      user: null,
      session: null,
      degraded: false,
      via: null,
      setCookie: [],
    })
    const malformed = await call('POST', '/v1/authenticate', { authorization: 'Bearer a b' })
    expect(malformed.json).toMatchObject({
      ok: false,
      problem: { status: 400, body: { code: 'invalid_request' } },
    })
    const now = Math.floor(Date.now() / 1000)
    const expired = await identity.issuer.mint({ sub: 'usr_old' }, { now: now - 3600, expiresIn: 60 })
    const late = await call('POST', '/v1/authenticate', { authorization: bearer(expired) })
    expect(late.json).toMatchObject({ ok: false, problem: { status: 401, body: { code: 'token_expired' } } })
    expect(late.text).not.toContain(expired)
    expect(late.text).not.toContain('usr_old')
  })

  it('creates a session from a token set, shows its secret once, and authenticates its cookie', async () => {
    const idToken = await identity.issuer.mint({ sub: 'usr_login', email: 'l@example.com' })
    const created = await call('POST', '/v1/sessions', {
      tokenSet: { id_token: idToken, access_token: 'opaque-at', refresh_token: 'rt-1' },
      userAgent: 'ua',
    })
    expect(created.status).toBe(201)
    const session = created.json.session as { id: string }
    expect(created.json).toMatchObject({ session: { userId: 'usr_login', origin: 'login', active: true } })
    expect(typeof created.json.secret).toBe('string')
    expect(created.json.setCookie).toMatch(new RegExp(`^${COOKIE}=${session.id}\\.`))
    const cookie = (created.json.setCookie as string).split(';')[0]!
    const authn = await call('POST', '/v1/authenticate', { cookie })
    expect(authn.json).toMatchObject({ ok: true, user: { sub: 'usr_login' }, session: { id: session.id } })

    const got = await call('GET', `/v1/sessions/${session.id}`)
    expect(got).toMatchObject({ status: 200, json: { id: session.id, userId: 'usr_login' } })
    const tokens = await call('GET', `/v1/sessions/${session.id}/tokens`)
    expect(tokens.json).toMatchObject({ tokens: { accessToken: 'opaque-at', refreshToken: 'rt-1', idToken } })
    const refreshed = await call('POST', `/v1/sessions/${session.id}/refresh`)
    expect(refreshed).toMatchObject({ status: 200, json: { id: session.id, active: true } })
    const list = await call('GET', '/v1/users/usr_login/sessions')
    expect((list.json.sessions as Array<{ id: string }>).map((s) => s.id)).toEqual([session.id])

    expect(await call('DELETE', `/v1/sessions/${session.id}`)).toMatchObject({
      status: 200,
      json: { revoked: true },
    })
    expect((await call('POST', '/v1/authenticate', { cookie })).json).toMatchObject({
      ok: false,
      problem: { body: { code: 'invalid_token' } },
    })
    expect((await call('GET', '/v1/users/usr_login/sessions')).json.sessions).toEqual([])
    const inactive = await call('GET', '/v1/users/usr_login/sessions?includeInactive=true')
    expect(inactive.json.sessions).toMatchObject([{ id: session.id, active: false }])
  })

  it('answers 404 session_not_found for an unknown session, and a bad token set with 401', async () => {
    const unknown = 'sess_01HX7KQMB4ABCDEFGHJKMNPQRS'
    for (const [method, path] of [
      ['GET', `/v1/sessions/${unknown}`],
      ['DELETE', `/v1/sessions/${unknown}`],
      ['POST', `/v1/sessions/${unknown}/refresh`],
      ['GET', `/v1/sessions/${unknown}/tokens`],
    ] as const) {
      const response = await call(method, path)
      expect(response.status, `${method} ${path}`).toBe(404)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(response.json).toMatchObject({
        status: 404,
        code: 'session_not_found',
        type: 'urn:coresdk:problem:session-not-found',
      })
    }
    const forged = await call('POST', '/v1/sessions', { tokenSet: { id_token: 'a.b.c' } })
    expect(forged).toMatchObject({ status: 401, json: { code: 'invalid_token' } })
  })

  it('revokes every session of a user, and logs out one session or everywhere', async () => {
    const a = await identity.issuer.mint({ sub: 'usr_many', jti: 'many-a' })
    const b = await identity.issuer.mint({ sub: 'usr_many', jti: 'many-b' })
    const idA = (
      (await call('POST', '/v1/authenticate', { authorization: bearer(a) })).json.session as { id: string }
    ).id
    await call('POST', '/v1/authenticate', { authorization: bearer(b) })
    const all = await call('POST', `/v1/users/${encodeURIComponent('usr_many')}/revoke-all`)
    expect(all.json).toMatchObject({ revoked: 2 })
    expect((await call('POST', '/v1/authenticate', { authorization: bearer(a) })).json.ok).toBe(false)
    expect((await call('GET', `/v1/sessions/${idA}`)).json.active).toBe(false)

    const c = await identity.issuer.mint({ sub: 'usr_out', jti: 'out-c' })
    const idC = (
      (await call('POST', '/v1/authenticate', { authorization: bearer(c) })).json.session as { id: string }
    ).id
    const out = await call('POST', '/v1/logout', { sessionId: idC, userId: 'usr_out' })
    expect(out.json).toMatchObject({ revoked: 1 })
    expect((out.json.setCookie as string[])[0]).toMatch(new RegExp(`^${COOKIE}=;.*Max-Age=0`, 'i'))
    expect((await call('POST', '/v1/authenticate', { authorization: bearer(c) })).json.ok).toBe(false)
  })

  it('revokes every session of a user but one, with the events it made; refuses another user’s session to keep, and an unknown actor', async () => {
    const sessionOf = async (sub: string, jti: string) => {
      const token = await identity.issuer.mint({ sub, jti })
      return (
        (await call('POST', '/v1/authenticate', { authorization: bearer(token) })).json.session as {
          id: string
        }
      ).id
    }
    const [kept, gone, stranger] = [
      await sessionOf('usr_keep', 'keep-1'),
      await sessionOf('usr_keep', 'keep-2'),
      await sessionOf('usr_stranger', 'keep-3'),
    ]
    const path = `/v1/users/${encodeURIComponent('usr_keep')}/revoke-others`
    const notTheirs = await call('POST', path, { keepSessionId: stranger })
    expect(notTheirs.status).toBe(400)
    expect(notTheirs.json).toMatchObject({ code: 'invalid_request' })
    expect((await call('POST', path, {})).status).toBe(400)
    const badActor = await call('POST', path, { keepSessionId: kept }, { 'x-coresdk-actor': 'root' })
    expect(badActor.status).toBe(400)
    expect((await call('GET', `/v1/sessions/${gone}`)).json.active).toBe(true)
    const done = await call('POST', path, { keepSessionId: kept }, { 'x-coresdk-actor': 'admin' })
    expect(done.status).toBe(200)
    expect(done.json).toMatchObject({
      revoked: 1,
      sessionIds: [gone],
      events: [
        {
          type: 'user.sessions_revoked',
          actor: 'admin',
          tenantId: 'acme',
          userId: 'usr_keep',
          scope: 'others',
          keptSessionId: kept,
          sessionIds: [gone],
        },
      ],
    })
    expect((await call('GET', `/v1/sessions/${gone}`)).json.active).toBe(false)
    expect((await call('GET', `/v1/sessions/${kept}`)).json.active).toBe(true)
    expect((await call('GET', `/v1/sessions/${stranger}`)).json.active).toBe(true)
  })

  it('answers bad calls with RFC 9457 problems: bad JSON 400, wrong type 415, too large 413, unknown 404, wrong method 405, a browser 403', async () => {
    const badJson = await call('POST', '/v1/authorize', '{"token":', { 'content-type': 'application/json' })
    expect(badJson).toMatchObject({
      status: 400,
      json: { code: 'invalid_request', detail: 'The request body is not valid JSON.' },
    })
    expect(badJson.headers.get('content-type')).toBe('application/problem+json')
    expect((await call('POST', '/v1/authorize', '[1]')).status).toBe(400)
    expect((await call('POST', '/v1/authorize', { token: 42 })).status).toBe(400)
    const form = await call('POST', '/v1/authorize', 'token=x', {
      'content-type': 'application/x-www-form-urlencoded',
    })
    expect(form).toMatchObject({ status: 415, json: { code: 'unsupported_media_type' } })
    const big = await call('POST', '/v1/authorize', { token: 'x'.repeat(5000) })
    expect(big).toMatchObject({ status: 413, json: { code: 'payload_too_large' } })
    expect(await call('GET', '/v1/nothing')).toMatchObject({ status: 404, json: { code: 'not_found' } })
    const wrong = await call('PUT', '/v1/authorize')
    expect(wrong).toMatchObject({ status: 405, json: { code: 'method_not_allowed' } })
    expect(wrong.headers.get('allow')).toBe('POST')
    const browser = await call('POST', '/v1/users/usr_many/revoke-all', undefined, {
      origin: 'https://evil.example',
    })
    expect(browser).toMatchObject({ status: 403, json: { code: 'forbidden_origin' } })
  })

  it('logs one JSON line per request with method, route, status and duration, and never a token, cookie or claim value', async () => {
    const token = await identity.issuer.mint({ sub: 'usr_logged', email: 'secret-mail@example.com' })
    const userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 LoggedAgent/1'
    await call('POST', '/v1/authenticate', {
      authorization: bearer(token),
      cookie: `${COOKIE}=abc`,
      userAgent,
      clientAddress: '203.0.113.77',
    })
    // The device metadata reaches the session (wire type), never the log.
    const listed = await call('GET', '/v1/users/usr_logged/sessions')
    expect((listed.json as { sessions: unknown[] }).sessions[0]).toMatchObject({
      ip: '203.0.113.77',
      browser: 'Firefox 128',
      os: 'Linux',
      deviceType: 'desktop',
      meta: { userAgent, ip: '203.0.113.77' },
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const requests = sidecar.logs().filter((entry) => entry.msg === 'request')
    expect(requests.length).toBeGreaterThan(20)
    for (const entry of requests) {
      expect(Object.keys(entry).sort()).toEqual(
        expect.arrayContaining(['durationMs', 'method', 'route', 'status', 'time']),
      )
      expect(typeof entry.durationMs).toBe('number')
    }
    expect(requests).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        route: '/v1/users/{userId}/sessions',
        status: 200,
        tenant: 'acme',
      }),
    )
    const all = sidecar.output.join('\n')
    for (const secret of [
      token,
      token.split('.')[1]!,
      'usr_logged',
      'secret-mail',
      `${COOKIE}=abc`,
      'usr_many',
      'LoggedAgent',
      '203.0.113.77',
    ]) {
      expect(all).not.toContain(secret)
    }
  })
})
