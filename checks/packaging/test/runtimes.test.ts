import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, type JwksServer, rawRequest, startJwksServer, TestIssuer } from '@coresdk/testing'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type Runtime, runtimeBinary } from '../src/runtimes.ts'
import { issuerSettings, type ServedApp, serve } from '../src/serve.ts'

const { projects } = inject('packaging')
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'runtime')

/** How each runtime is started on `port` in the project, with the settings in `env`. */
const START: Record<
  Runtime,
  (dir: string, port: number, env: Record<string, string>) => Promise<[string[], NodeJS.ProcessEnv]>
> = {
  bun: async (_dir, port, env) => [['runtime/bun.mjs'], { ...env, PORT: String(port) }],
  deno: async (dir, port, env) => [
    // Only the network, the project's files (node_modules) and the environment; npm packages from node_modules.
    ['run', '--allow-net', '--allow-read', '--allow-env', '--no-prompt', 'runtime/deno.mjs'],
    {
      ...env,
      PORT: String(port),
      DENO_DIR: join(dir, '.deno'),
      DENO_NO_UPDATE_CHECK: '1',
    },
  ],
  workerd: async (dir, port, env) => {
    // A Worker is one bundled module, resolved with workerd's export conditions as Wrangler does.
    await build({
      absWorkingDir: dir,
      entryPoints: ['runtime/worker.mjs'],
      outfile: 'runtime/worker.js',
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      logLevel: 'silent',
    })
    const bindings = Object.entries(env).map(
      ([name, value]) => `(name = "${name}", text = ${JSON.stringify(value)})`,
    )
    const config = readFileSync(join(fixtures, 'workerd.capnp'), 'utf8')
      .replaceAll('{{PORT}}', String(port))
      .replaceAll('{{BINDINGS}}', bindings.join(', '))
    writeFileSync(join(dir, 'runtime', 'workerd.capnp'), config)
    return [['serve', 'runtime/workerd.capnp'], {}]
  },
}

/** How each runtime names itself in `navigator.userAgent`. */
const USER_AGENT: Record<Runtime, RegExp> = {
  bun: /^Bun\//,
  deno: /^Deno\//,
  workerd: /^Cloudflare-Workers$/,
}

describe.each<Runtime>(['bun', 'deno', 'workerd'])(
  'core and the Hono adapter on %s (the installed tarballs)',
  (runtime) => {
    const dir = projects.esm.dir
    let issuer: TestIssuer
    let jwks: JwksServer
    let app: ServedApp

    beforeAll(async () => {
      expect(projects.esm.installed, projects.esm.output).toBe(true)
      issuer = await TestIssuer.create()
      jwks = await startJwksServer({ keys: [issuer.keys] })
      mkdirSync(join(dir, 'runtime'), { recursive: true })
      for (const file of ['app.mjs', 'bun.mjs', 'deno.mjs', 'worker.mjs'])
        copyFileSync(join(fixtures, file), join(dir, 'runtime', file))
      const port = await freePort()
      const [args, env] = await START[runtime](dir, port, issuerSettings(issuer, jwks))
      app = await serve(runtimeBinary(runtime), args, {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        url: `http://127.0.0.1:${port}`,
      })
    }, 60_000)

    afterAll(async () => {
      app?.stop()
      await jwks?.close()
    })

    it('serves the Hono app, in that runtime', async () => {
      const health = await rawRequest(app.url, 'GET', '/health')
      expect(health.status, app.output()).toBe(200)
      expect(JSON.parse(health.body).runtime).toMatch(USER_AGENT[runtime])
    })

    it('verifies a token against the JWKS, and refuses one signed by another key', async () => {
      const token = await issuer.mint({ sub: 'usr_rt' })
      const verified = await fetch(`${app.url}/verify`, { method: 'POST', body: token })
      expect(await verified.json()).toEqual({ allowed: true, sub: 'usr_rt' })
      // Another key under the same kid: only the signature check can tell.
      const stranger = await TestIssuer.create({ kid: issuer.keys.kid })
      const forged = await stranger.mint({ sub: 'usr_rt' })
      expect(await (await fetch(`${app.url}/verify`, { method: 'POST', body: forged })).json()).toMatchObject(
        { allowed: false },
      )
      expect(
        (await rawRequest(app.url, 'GET', '/api/me', { authorization: `Bearer ${forged}` })).status,
      ).toBe(401)
    })

    it('answers 401 without a token and 200 with one, and a revoked session is refused', async () => {
      expect((await rawRequest(app.url, 'GET', '/api/me')).status).toBe(401)
      const authorization = `Bearer ${await issuer.mint({ sub: 'usr_rt', jti: `${runtime}-1` })}`
      const me = await rawRequest(app.url, 'GET', '/api/me', { authorization })
      expect(me.status, app.output()).toBe(200)
      const { sub, session_id: sessionId } = JSON.parse(me.body)
      expect(sub).toBe('usr_rt')
      expect(sessionId).toMatch(/^sess_/)
      expect(
        (await rawRequest(app.url, 'DELETE', `/api/sessions/${sessionId}`, { authorization })).status,
      ).toBe(204)
      expect((await rawRequest(app.url, 'GET', '/api/me', { authorization })).status).toBe(401)
    })

    it('logs out: the current session is revoked and its token refused', async () => {
      const authorization = `Bearer ${await issuer.mint({ sub: 'usr_rt', jti: `${runtime}-2` })}`
      expect((await rawRequest(app.url, 'GET', '/api/me', { authorization })).status).toBe(200)
      expect((await rawRequest(app.url, 'POST', '/auth/logout', { authorization })).status).toBe(204)
      expect((await rawRequest(app.url, 'GET', '/api/me', { authorization })).status).toBe(401)
    })
  },
)
