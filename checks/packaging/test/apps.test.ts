import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, type JwksServer, rawRequest, startJwksServer, TestIssuer } from '@coresdk/testing'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { ModuleFormat } from '../src/fresh-project.ts'
import { run } from '../src/run.ts'
import { issuerSettings, type ServedApp, serve } from '../src/serve.ts'
import { tscOf } from '../src/type-check.ts'
import { root } from '../src/workspace.ts'

const { projects } = inject('packaging')

/** The minimal app of each framework: the opening snippet of its docs page, as a user pastes it. */
const FRAMEWORKS = ['express', 'fastify', 'hono', 'nestjs']
const APPS = FRAMEWORKS.map((framework) => {
  const page = readFileSync(join(root, 'docs', `${framework}.md`), 'utf8')
  return { framework, snippet: /```ts\n([\s\S]*?)```/.exec(page)![1]! }
})

describe.each<ModuleFormat>(['cjs', 'esm'])(
  'in the fresh %s project, each framework app from the docs',
  (format) => {
    const dir = projects[format].dir
    const ports = new Map<string, number>()
    let issuer: TestIssuer
    let jwks: JwksServer
    let compiled: Awaited<ReturnType<typeof run>>
    const served: ServedApp[] = []

    beforeAll(async () => {
      expect(projects[format].installed, projects[format].output).toBe(true)
      issuer = await TestIssuer.create()
      jwks = await startJwksServer({ keys: [issuer.keys] })
      mkdirSync(join(dir, 'apps'), { recursive: true })
      for (const { framework, snippet } of APPS) {
        const port = await freePort()
        ports.set(framework, port)
        writeFileSync(join(dir, 'apps', `${framework}.ts`), snippet.replaceAll('3000', String(port)))
      }
      const config = {
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          target: 'es2022',
          types: ['node'],
          skipLibCheck: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          rootDir: 'apps',
          outDir: 'build',
        },
        include: ['apps'],
      }
      // The project's tsconfig.json, which tsx reads too (Nest's decorators need `experimentalDecorators`).
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2))
      compiled = await run(process.execPath, [tscOf(dir, '5.9'), '-p', 'tsconfig.json'], { cwd: dir })
    }, 180_000)

    afterAll(async () => {
      for (const app of served) app.stop()
      await jwks?.close()
    })

    it('compile with tsc as CommonJS or ESM (no top-level await)', () => {
      expect(`${compiled.stdout}${compiled.stderr}`).toBe('')
      expect(compiled.code).toBe(0)
    })

    /** Whether `url` stops answering within 3 s. */
    async function stopsAnswering(url: string): Promise<boolean> {
      for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
        const answer = await rawRequest(url, 'GET', '/health').catch(() => undefined)
        if (answer === undefined) return true
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      return false
    }

    /** Starts the app, and checks it: a public /health, 401 without a token, 200 with one, 401 once logged out. */
    async function expectServes(framework: string, command: string, args: string[]): Promise<void> {
      const url = `http://127.0.0.1:${ports.get(framework)}`
      const app = await serve(command, args, {
        cwd: dir,
        url,
        env: { PATH: process.env.PATH, ...issuerSettings(issuer, jwks) },
      })
      served.push(app)
      try {
        expect((await rawRequest(url, 'GET', '/health')).status).toBe(200)
        const anonymous = await rawRequest(url, 'GET', '/api/me')
        expect(anonymous.status).toBe(401)
        expect(JSON.parse(anonymous.body).code).toBe('missing_credentials')
        const authorization = `Bearer ${await issuer.mint({ sub: `usr_${framework}`, email: 'ada@example.com' })}`
        const me = await rawRequest(url, 'GET', '/api/me', { authorization })
        expect(me.status, app.output()).toBe(200)
        expect(JSON.parse(me.body)).toMatchObject({ sub: `usr_${framework}`, email: 'ada@example.com' })
        expect((await rawRequest(url, 'POST', '/auth/logout', { authorization })).status).toBe(204)
        expect((await rawRequest(url, 'GET', '/api/me', { authorization })).status).toBe(401)
      } finally {
        app.stop()
        await app.exited
      }
      // Stopped with every process it started (tsx runs the app in a child of its own): nothing answers any more.
      expect(await stopsAnswering(url)).toBe(true)
    }

    it.each(FRAMEWORKS)(
      '%s, compiled by tsc: 401 without a token, 200 with one, 401 once logged out',
      (framework) => expectServes(framework, process.execPath, [join('build', `${framework}.js`)]),
    )

    it.each(FRAMEWORKS)('%s, run from its TypeScript source by tsx: the same', (framework) =>
      expectServes(framework, join(dir, 'node_modules', '.bin', 'tsx'), [join('apps', `${framework}.ts`)]),
    )
  },
)
