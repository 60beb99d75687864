import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { rawRequest } from './http.ts'
import { type JwksServer, startJwksServer } from './jwks-server.ts'
import { TestIssuer } from './mint.ts'
import { freePort } from './services.ts'

/** Options of {@link describeDocsSnippet}. */
export interface DocsSnippetOptions {
  /** The calling test file's `import.meta.url`: the page is found from it, and the snippet is run beside it. */
  from: string
  /** The docs page, relative to `from` (e.g. `'../../../docs/express.md'`); the suite is named after its path. */
  page: string
  /** How the snippet listens on port 3000 (e.g. `'app.listen(3000'`); the test runs it on a free port instead. */
  listens: string
}

/**
 * A suite proving that a docs page's opening ```ts snippet works as pasted: it is written beside the test file (so
 * that it resolves the workspace's packages), run with tsx on a free port against a local issuer, and must serve a
 * public `/health`, a protected `/api/me` (401 without a token, the claims with one) and `/auth/logout` (204, after
 * which the token's session is refused). The test has 60 s: starting tsx and the framework is slow on a loaded host.
 * @example
 * describeDocsSnippet({ from: import.meta.url, page: '../../../docs/express.md', listens: 'app.listen(3000' })
 */
export function describeDocsSnippet(options: DocsSnippetOptions): void {
  const page = readFileSync(new URL(options.page, options.from), 'utf8')
  const snippet = /```ts\n([\s\S]*?)```/.exec(page)?.[1] ?? ''

  describe(options.page.replace(/^(\.\.?\/)+/, ''), () => {
    const file = fileURLToPath(new URL(`./docs-snippet-${process.pid}.ts`, options.from))
    let child: ChildProcess | undefined
    let jwks: JwksServer | undefined
    afterAll(async () => {
      child?.kill('SIGKILL')
      await rm(file, { force: true })
      await jwks?.close()
    })

    it('the opening snippet works as pasted: a protected /api/me, a public /health, logout', async () => {
      const issuer = await TestIssuer.create()
      jwks = await startJwksServer({ keys: [issuer.keys] })
      const port = await freePort()
      expect(snippet).toContain(options.listens)
      await writeFile(file, snippet.replaceAll('3000', String(port)))
      child = spawn(process.execPath, ['--conditions=@coresdk/source', '--import', 'tsx', file], {
        // tsx reads the tsconfig nearest its working directory: the package's own (Nest's decorators need it), from
        // wherever the test runner was started.
        cwd: dirname(file),
        env: {
          PATH: process.env.PATH,
          CORESDK_JWT_ISSUER: issuer.issuer,
          CORESDK_JWT_AUDIENCE: issuer.audience,
          CORESDK_JWT_ALGORITHMS: 'RS256',
          CORESDK_JWKS_URL: jwks.jwksUrl,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let output = ''
      const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`the snippet exited with ${code}`)
      })
      // Killed at the end of the test: that exit is expected, not an unhandled failure.
      exited.catch(() => {})
      while (!output.includes(`http://localhost:${port}`)) {
        output += String((await Promise.race([once(child.stdout!, 'data'), exited]))[0])
      }

      const url = `http://127.0.0.1:${port}`
      expect((await rawRequest(url, 'GET', '/health')).status).toBe(200)
      expect((await rawRequest(url, 'GET', '/api/me')).status).toBe(401)
      const token = await issuer.mint({ sub: 'usr_docs', email: 'docs@example.com', jti: 'docs-1' })
      const authorization = `Bearer ${token}`
      const me = await rawRequest(url, 'GET', '/api/me', { authorization })
      expect(JSON.parse(me.body)).toMatchObject({ sub: 'usr_docs', email: 'docs@example.com' })
      expect((await rawRequest(url, 'POST', '/auth/logout', { authorization })).status).toBe(204)
      expect((await rawRequest(url, 'GET', '/api/me', { authorization })).status).toBe(401)
    }, 60_000)
  })
}
