import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreSDKClient } from '@coresdk/core'
import { sidecarRoutes } from '@coresdk/core/sidecar-protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  api,
  bearer,
  type Identity,
  runSidecarExpectingFailure,
  SECRET,
  type SidecarProcess,
  startIdentity,
  startSidecar,
} from './helpers.ts'

const ACME = 'acme-secret-0123456789-0123456789-abcdef'
const GLOBEX = 'globex-secret-0123456789-0123456789-abcd'

describe('sidecar access control', () => {
  let identity: Identity
  beforeAll(async () => {
    identity = await startIdentity()
  })
  afterAll(async () => {
    await identity?.close()
  })

  it('refuses to start without a secret, on loopback as on any other address, naming the settings', async () => {
    const [loopback, everywhere] = await Promise.all(
      ['127.0.0.1', '0.0.0.0'].map((host) =>
        runSidecarExpectingFailure({
          ...identity.env,
          CORESDK_SIDECAR_HOST: host,
          CORESDK_SIDECAR_PORT: '0',
        }),
      ),
    )
    for (const { code, output } of [loopback!, everywhere!]) {
      expect(code).toBe(1)
      expect(output).toMatch(/"level":"fatal"/)
      expect(output).toMatch(/refusing to start without a secret\. Set CORESDK_SIDECAR_SECRET/)
      expect(output).toContain('CORESDK_SIDECAR_TENANTS')
    }
  })

  it('refuses a secret shorter than 32 bytes without echoing it', async () => {
    const { code, output } = await runSidecarExpectingFailure({
      ...identity.env,
      CORESDK_SIDECAR_SECRET: 'short-secret-value',
      CORESDK_SIDECAR_PORT: '0',
    })
    expect(code).toBe(1)
    expect(output).toContain('CORESDK_SIDECAR_SECRET')
    expect(output).toContain('at least 32 bytes')
    expect(output).not.toContain('short-secret-value')
  })

  it('refuses to start without the jwt settings the engine needs, naming them', async () => {
    const { code, output } = await runSidecarExpectingFailure({ CORESDK_SIDECAR_PORT: '0' })
    expect(code).toBe(1)
    expect(output).toContain('CORESDK_JWT_ALGORITHMS')
  })

  describe('with one secret, listening on every interface', () => {
    let sidecar: SidecarProcess
    beforeAll(async () => {
      sidecar = await startSidecar({
        ...identity.env,
        CORESDK_TENANT_ID: 'acme',
        CORESDK_SIDECAR_HOST: '0.0.0.0',
        CORESDK_SIDECAR_SECRET: SECRET,
      })
    })
    afterAll(async () => {
      await sidecar?.stop()
    })

    it('answers 401 without the key or with a wrong one, and serves the key’s tenant with the right one', async () => {
      const missing = await api(sidecar.url, 'GET', '/v1/users/u/sessions')
      expect(missing).toMatchObject({ status: 401, json: { code: 'sidecar_unauthorized' } })
      expect(missing.headers.get('content-type')).toBe('application/problem+json')
      const wrong = await api(sidecar.url, 'GET', '/v1/users/u/sessions', undefined, {
        'x-coresdk-sidecar-key': `${SECRET}x`,
      })
      expect(wrong).toMatchObject({ status: 401, json: { code: 'sidecar_unauthorized' } })
      expect(wrong.text).not.toContain(SECRET)
      // The user's own Authorization header is not the sidecar's credential.
      const asBearer = await api(sidecar.url, 'GET', '/v1/users/u/sessions', undefined, {
        authorization: `Bearer ${SECRET}`,
      })
      expect(asBearer.status).toBe(401)
      const right = await api(sidecar.url, 'GET', '/v1/users/u/sessions', undefined, {
        'x-coresdk-sidecar-key': SECRET,
      })
      expect(right).toMatchObject({ status: 200, json: { sessions: [] } })
      expect((await api(sidecar.url, 'GET', '/healthz')).status).toBe(200)
      expect(sidecar.output.join('\n')).not.toContain(SECRET)
    })

    it('refuses (403) a request naming another tenant than its key’s', async () => {
      const other = await api(sidecar.url, 'GET', '/v1/users/u/sessions', undefined, {
        'x-coresdk-sidecar-key': SECRET,
        'x-coresdk-tenant': 'globex',
      })
      expect(other).toMatchObject({ status: 403, json: { code: 'tenant_forbidden' } })
      const same = await api(sidecar.url, 'GET', '/v1/users/u/sessions', undefined, {
        'x-coresdk-sidecar-key': SECRET,
        'x-coresdk-tenant': 'acme',
      })
      expect(same.status).toBe(200)
    })
  })

  describe('a local process without the secret', () => {
    let sidecar: SidecarProcess
    beforeAll(async () => {
      sidecar = await startSidecar({ ...identity.env, CORESDK_SIDECAR_SECRET: SECRET })
    })
    afterAll(async () => {
      await sidecar?.stop()
    })

    it('gets 401 on every route, the API description and unknown paths included, except /healthz and /readyz', async () => {
      const probes: Array<[string, string]> = [
        ...Object.values(sidecarRoutes).map(
          (route) =>
            [route.method, route.path.replace(/\{\w+\}/, 'sess_01HX7KQMB4ABCDEFGHJKMNPQRS')] as [
              string,
              string,
            ],
        ),
        ['GET', '/openapi.json'],
        ['GET', '/v1/nothing'],
        ['PUT', '/v1/authorize'],
        ['GET', '/'],
      ]
      for (const [method, path] of probes) {
        const body = method === 'POST' ? {} : undefined
        const attempts: Array<Record<string, string>> = [
          {},
          { 'x-coresdk-sidecar-key': '' },
          { 'x-coresdk-sidecar-key': `${SECRET}-not` },
        ]
        for (const headers of attempts) {
          const answer = await api(sidecar.url, method, path, body, headers)
          expect(answer.status, `${method} ${path}`).toBe(401)
          expect(answer.json.code).toBe('sidecar_unauthorized')
          expect(answer.headers.get('www-authenticate')).toBe('x-coresdk-sidecar-key realm="coresdk-sidecar"')
        }
      }
      expect(await api(sidecar.url, 'GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } })
      expect(await api(sidecar.url, 'GET', '/readyz')).toMatchObject({
        status: 200,
        json: { status: 'ready' },
      })
      // With the key, the same paths answer as routes do.
      const described = await api(sidecar.url, 'GET', '/openapi.json', undefined, {
        'x-coresdk-sidecar-key': SECRET,
      })
      expect(described.status).toBe(200)
      expect(
        (await api(sidecar.url, 'GET', '/v1/nothing', undefined, { 'x-coresdk-sidecar-key': SECRET })).status,
      ).toBe(404)
    })
  })

  describe('the decrypted-tokens endpoint', () => {
    let closed: SidecarProcess
    let opened: SidecarProcess
    const key = { 'x-coresdk-sidecar-key': SECRET }
    beforeAll(async () => {
      ;[closed, opened] = await Promise.all([
        startSidecar({ ...identity.env, CORESDK_TENANT_ID: 'acme', CORESDK_SIDECAR_SECRET: SECRET }),
        startSidecar({
          ...identity.env,
          CORESDK_TENANT_ID: 'acme',
          CORESDK_SIDECAR_SECRET: SECRET,
          CORESDK_SIDECAR_EXPOSE_TOKENS: '1',
        }),
      ])
    })
    afterAll(async () => {
      await Promise.all([closed?.stop(), opened?.stop()])
    })

    const login = async (sidecar: SidecarProcess) => {
      const created = await api(
        sidecar.url,
        'POST',
        '/v1/sessions',
        {
          tokenSet: { id_token: await identity.issuer.mint({ sub: 'usr_tokens' }), refresh_token: 'rt-held' },
        },
        key,
      )
      expect(created.status).toBe(201)
      return (created.json.session as { id: string }).id
    }

    it('is off by default: 403 forbidden with the key, the session itself readable, no token in the answer', async () => {
      const id = await login(closed)
      const tokens = await api(closed.url, 'GET', `/v1/sessions/${id}/tokens`, undefined, key)
      expect(tokens).toMatchObject({ status: 403, json: { code: 'forbidden', status: 403 } })
      expect(tokens.json.detail).toContain('CORESDK_SIDECAR_EXPOSE_TOKENS=1')
      expect(tokens.text).not.toContain('rt-held')
      expect((await api(closed.url, 'GET', `/v1/sessions/${id}`, undefined, key)).status).toBe(200)
      expect(closed.logs()).toContainEqual(expect.objectContaining({ msg: 'listening', exposeTokens: false }))
      // A client in sidecar mode gets the same refusal as an error, not "no tokens".
      const sdk = new CoreSDKClient({
        env: {},
        mode: 'sidecar',
        sidecarAddr: closed.url,
        sidecarSecret: SECRET,
        tenantId: 'acme',
      })
      await expect(sdk.sessions().getTokens(id)).rejects.toMatchObject({ code: 'forbidden', status: 403 })
      await sdk.close()
    })

    it('with CORESDK_SIDECAR_EXPOSE_TOKENS=1 hands the tokens to a caller with the key, and to no one else', async () => {
      const id = await login(opened)
      const tokens = await api(opened.url, 'GET', `/v1/sessions/${id}/tokens`, undefined, key)
      expect(tokens).toMatchObject({ status: 200, json: { tokens: { refreshToken: 'rt-held' } } })
      expect((await api(opened.url, 'GET', `/v1/sessions/${id}/tokens`)).status).toBe(401)
      expect(opened.logs()).toContainEqual(expect.objectContaining({ msg: 'listening', exposeTokens: true }))
    })
  })

  describe('with one secret per tenant (CORESDK_SIDECAR_TENANTS_FILE), sharing one store', () => {
    let sidecar: SidecarProcess
    let dir: string
    const sdk = (tenantId: string, secret: string) =>
      new CoreSDKClient({
        env: {},
        mode: 'sidecar',
        sidecarAddr: sidecar.url,
        sidecarSecret: secret,
        tenantId,
        sidecar: { cacheTtl: 0 },
      })
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'coresdk-sidecar-'))
      const file = join(dir, 'tenants.json')
      await writeFile(file, JSON.stringify({ acme: ACME, globex: GLOBEX }))
      sidecar = await startSidecar({ ...identity.env, CORESDK_SIDECAR_TENANTS_FILE: file })
    })
    afterAll(async () => {
      await sidecar?.stop()
      await rm(dir, { recursive: true, force: true })
    })

    it('takes the tenant from the key: each tenant sees only its own sessions', async () => {
      const acme = sdk('acme', ACME)
      const globex = sdk('globex', GLOBEX)
      const token = await identity.issuer.mint({ sub: 'usr_shared', jti: 'shared' })
      const a = await acme.authenticate({ authorization: bearer(token) })
      if (!a.ok) throw new Error('expected ok')
      expect(a.session!.tenantId).toBe('acme')
      expect(await globex.sessions().get(a.session!.id)).toBeNull()
      expect(await globex.sessions().listForUser('usr_shared')).toEqual([])
      expect(await globex.sessions().revoke(a.session!.id)).toBe(false)
      expect((await acme.sessions().get(a.session!.id))!.isActive()).toBe(true)
      // The same token on globex is a session of globex's own.
      const g = await globex.authenticate({ authorization: bearer(token) })
      expect(g.ok && g.session!.tenantId).toBe('globex')
      expect(g.ok && g.session!.id).not.toBe(a.session!.id)
      await acme.close()
      await globex.close()
    })

    it('refuses a client claiming a tenant its key does not serve, and a caller without a key', async () => {
      const impostor = sdk('globex', ACME)
      await expect(impostor.sessions().listForUser('usr_shared')).rejects.toMatchObject({
        code: 'invalid_config',
      })
      const direct = await api(sidecar.url, 'GET', '/v1/users/usr_shared/sessions', undefined, {
        'x-coresdk-sidecar-key': ACME,
        'x-coresdk-tenant': 'globex',
      })
      expect(direct).toMatchObject({ status: 403, json: { code: 'tenant_forbidden' } })
      expect((await api(sidecar.url, 'GET', '/v1/users/usr_shared/sessions')).status).toBe(401)
      await impostor.close()
    })
  })
})
