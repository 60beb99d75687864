import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { freePort, rawRequest, startJwksServer, TestIssuer } from '@coresdk/testing'
import { afterAll, describe, expect, it } from 'vitest'

const page = readFileSync(new URL('../../../docs/hono.md', import.meta.url), 'utf8')
const snippet = /```ts\n([\s\S]*?)```/.exec(page)![1]!

describe('docs/hono.md', () => {
  const file = fileURLToPath(new URL(`./docs-snippet-${process.pid}.ts`, import.meta.url))
  let child: ChildProcess | undefined
  afterAll(async () => {
    child?.kill('SIGKILL')
    await rm(file, { force: true })
  })

  it('the opening snippet works as pasted: a protected /api/me, a public /health, logout', async () => {
    const issuer = await TestIssuer.create()
    const jwks = await startJwksServer({ keys: [issuer.keys] })
    const port = await freePort()
    expect(snippet).toContain('port: 3000')
    await writeFile(file, snippet.replaceAll('3000', String(port)))
    child = spawn(process.execPath, ['--conditions=@coresdk/source', '--import', 'tsx', file], {
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
    const authorization = `Bearer ${await issuer.mint({ sub: 'usr_docs', email: 'docs@example.com', jti: 'docs-1' })}`
    const me = await rawRequest(url, 'GET', '/api/me', { authorization })
    expect(JSON.parse(me.body)).toMatchObject({ sub: 'usr_docs', email: 'docs@example.com' })
    expect((await rawRequest(url, 'POST', '/auth/logout', { authorization })).status).toBe(204)
    expect((await rawRequest(url, 'GET', '/api/me', { authorization })).status).toBe(401)
    await jwks.close()
  }, 60_000)
})
