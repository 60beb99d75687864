import { CoreSDKClient } from '@coresdk/core'
import { problemFor } from '@coresdk/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectProblem } from './describe-adapter.ts'
import { type AdapterServer, type RecordedResponse, rawRequest } from './http.ts'
import { TestIssuer } from './mint.ts'

/**
 * Starts a real HTTP server on an ephemeral port running the adapter with `sdk`, authentication optional (an
 * anonymous request reaches the role check), serving:
 * - `GET /api/staff`: the adapter's role check for any of `admin`, `support`; 200 `{ sub }`;
 * - `GET /api/audit`: the adapter's role check for all of `admin`, `auditor`; 200 `{ sub }`;
 * - `GET /public/staff`: under a public path (`publicPaths: ['/public/*']`, or the framework's public marker) and
 *   with the role check for `admin`: a route with roles is never public; 200 `{ sub }`.
 */
export type StartRoleApp = (sdk: CoreSDKClient) => Promise<AdapterServer>

const REALM = 'roles-suite'

/** Asserts an answer is core's 403 `forbidden` problem, with `WWW-Authenticate: Bearer … error="insufficient_scope"`. */
export function expectForbidden(response: RecordedResponse, realm = REALM): void {
  const expected = problemFor('forbidden', { realm })
  expect(response.status).toBe(403)
  expect(JSON.parse(response.body)).toEqual(expected.body)
  expect(response.headers['content-type']).toBe(expected.headers['content-type'])
  expect(response.headers['cache-control']).toBe(expected.headers['cache-control'])
  expect(response.headers['www-authenticate']).toBe(`Bearer realm="${realm}", error="insufficient_scope"`)
}

/**
 * The role-check suite: the same requests against an adapter's role helper (Express and Hono `requireRoles()`,
 * Fastify's route `config.coresdk.roles`, Nest's `@Roles()`), checking every answer is exactly core's.
 * @example
 * describeRoleChecks('express', async (sdk) => listen(createRoleApp(sdk)))
 */
export function describeRoleChecks(name: string, start: StartRoleApp): void {
  describe(`role checks: ${name}`, () => {
    let issuer: TestIssuer
    let sdk: CoreSDKClient
    let app: AdapterServer
    let counter = 0
    const clientWith = (extra: object = {}) =>
      new CoreSDKClient({
        serviceName: REALM,
        tenantId: 'roles',
        env: {},
        jwt: issuer.jwtOptions(),
        ...extra,
      })
    const token = (claims: Record<string, unknown>) => issuer.mint({ jti: `roles-${++counter}`, ...claims })
    const get = async (path: string, claims?: Record<string, unknown>, base = app.url) =>
      rawRequest(base, 'GET', path, claims ? { authorization: `Bearer ${await token(claims)}` } : {})

    beforeAll(async () => {
      issuer = await TestIssuer.create()
      sdk = clientWith()
      app = await start(sdk)
    })
    afterAll(async () => {
      await app?.close()
      await sdk?.close()
    })

    it('a route with roles is never public: under a public path it still authenticates and checks the roles', async () => {
      const admin = await get('/public/staff', { sub: 'usr_public_admin', roles: ['admin'] })
      expect(admin.status).toBe(200)
      expect(JSON.parse(admin.body)).toEqual({ sub: 'usr_public_admin' })
      expectForbidden(await get('/public/staff', { sub: 'usr_public_viewer', roles: ['viewer'] }))
      expectProblem(await get('/public/staff'), 'missing_credentials', REALM)
    })

    it('lets a user holding one of the roles through (200)', async () => {
      for (const roles of [['support'], ['viewer', 'admin']]) {
        const response = await get('/api/staff', { sub: 'usr_staff', roles })
        expect(response.status, roles.join()).toBe(200)
        expect(JSON.parse(response.body)).toEqual({ sub: 'usr_staff' })
      }
    })

    it('refuses a signed-in user without the role with core’s 403 problem, naming no role', async () => {
      for (const claims of [{ roles: ['viewer'] }, { roles: [] }, {}, { roles: 'admin-ish' }]) {
        const response = await get('/api/staff', { sub: 'usr_viewer', ...claims })
        expectForbidden(response)
        expect(response.body).not.toMatch(/viewer|admin|support/)
      }
    })

    it('an all-of requirement needs every role', async () => {
      expectForbidden(await get('/api/audit', { sub: 'usr_admin', roles: ['admin'] }))
      expectForbidden(await get('/api/audit', { sub: 'usr_auditor', roles: ['auditor'] }))
      const both = await get('/api/audit', { sub: 'usr_both', roles: ['auditor', 'admin'] })
      expect(both.status).toBe(200)
      expect(JSON.parse(both.body)).toEqual({ sub: 'usr_both' })
    })

    it('answers an anonymous request with the 401 problem, and a bad token with invalid_token', async () => {
      for (const path of ['/api/staff', '/api/audit']) {
        expectProblem(await get(path), 'missing_credentials', REALM)
        expectProblem(
          await rawRequest(app.url, 'GET', path, { authorization: 'Bearer not.a.token' }),
          'invalid_token',
          REALM,
        )
      }
    })

    it('reads the roles from the configured claim (rbac.rolesClaim)', async () => {
      const nested = clientWith({ rbac: { rolesClaim: 'realm_access.roles' } })
      const nestedApp = await start(nested)
      try {
        const granted = await get(
          '/api/staff',
          { sub: 'usr_realm', realm_access: { roles: ['support'] } },
          nestedApp.url,
        )
        expect(granted.status).toBe(200)
        // The default claim means nothing once another is configured.
        expectForbidden(await get('/api/staff', { sub: 'usr_top', roles: ['support'] }, nestedApp.url))
      } finally {
        await nestedApp.close()
        await nested.close()
      }
    })
  })
}
