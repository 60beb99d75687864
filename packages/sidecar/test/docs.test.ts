import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { startJwksServer, TestIssuer } from '@coresdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, bearer, childEnv, SECRET, type SidecarProcess, startSidecar } from './helpers.ts'

const DOC = new URL('../../../docs/sidecar.md', import.meta.url)
const DOCUMENTED_ADDR = 'http://127.0.0.1:7233'
// Values that must be exactly as documented; every other value only needs the documented JSON type.
const EXACT = new Set([
  'code',
  'status',
  'type',
  'title',
  'detail',
  'origin',
  'tenantId',
  'userId',
  'ok',
  'allowed',
  'active',
  'degraded',
])

interface Example {
  command: string
  expected: unknown
  line: number
}

/** Every ```sh block whose command is curl, with the ```json block that follows it (the documented answer). */
function curlExamples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1]!,
    body: m[2]!,
    line: markdown.slice(0, m.index).split('\n').length,
  }))
  const examples: Example[] = []
  blocks.forEach((block, i) => {
    if (block.lang !== 'sh' || !block.body.trimStart().startsWith('curl ')) return
    const next = blocks[i + 1]
    if (next?.lang !== 'json')
      throw new Error(`docs/sidecar.md:${block.line}: a curl example needs its answer in a json block`)
    examples.push({ command: block.body, expected: JSON.parse(next.body), line: block.line })
  })
  return examples
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

/** Whether `actual` has the documented shape: the same keys, exact values where they matter, the same types elsewhere. */
function conform(actual: unknown, expected: unknown, path: string, key = ''): void {
  if (EXACT.has(key) && typeOf(expected) !== 'object') {
    expect(actual, path).toEqual(expected)
    return
  }
  expect(typeOf(actual), path).toBe(typeOf(expected))
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length > 0) expect(actual.length, `${path} has entries`).toBeGreaterThan(0)
    // Entry by entry when the documented list has as many entries, else each against the first.
    const pairwise = actual.length === expected.length
    for (const [i, item] of actual.entries()) conform(item, expected[pairwise ? i : 0], `${path}[${i}]`)
  } else if (typeOf(expected) === 'object') {
    const a = actual as Record<string, unknown>
    const e = expected as Record<string, unknown>
    expect(Object.keys(a).sort(), `${path} keys`).toEqual(Object.keys(e).sort())
    for (const name of Object.keys(e)) conform(a[name], e[name], `${path}.${name}`, name)
  }
}

function sh(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { env: childEnv(env), timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('the curl examples of docs/sidecar.md, run against a real sidecar', () => {
  const examples = curlExamples(readFileSync(DOC, 'utf8'))
  let sidecar: SidecarProcess
  let jwks: Awaited<ReturnType<typeof startJwksServer>>
  let env: Record<string, string>

  beforeAll(async () => {
    const issuer = await TestIssuer.create({
      issuer: 'https://id.example.com/',
      audience: 'my-api',
      subject: 'usr_2xK9',
    })
    jwks = await startJwksServer({ keys: [issuer.keys] })
    sidecar = await startSidecar({
      CORESDK_TENANT_ID: 'acme',
      CORESDK_SIDECAR_SECRET: SECRET,
      CORESDK_JWT_ISSUER: issuer.issuer,
      CORESDK_JWT_AUDIENCE: issuer.audience,
      CORESDK_JWT_ALGORITHMS: 'RS256',
      CORESDK_JWKS_URL: jwks.jwksUrl,
    })
    const token = await issuer.mint({ email: 'ada@example.com' })
    const first = await api(
      sidecar.url,
      'POST',
      '/v1/authenticate',
      { authorization: bearer(token), userAgent: 'curl' },
      { 'x-coresdk-sidecar-key': SECRET },
    )
    env = {
      CORESDK_SIDECAR_SECRET: SECRET,
      TOKEN: token,
      ID_TOKEN: await issuer.mint({ email: 'ada@example.com' }),
      SESSION_ID: (first.json.session as { id: string }).id,
    }
  })
  afterAll(async () => {
    await sidecar?.stop()
    await jwks?.close()
  })

  it('finds every documented route among the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(14)
    const text = examples.map((e) => e.command).join('\n')
    for (const route of [
      '/healthz',
      '/readyz',
      '/v1/authorize',
      '/v1/authenticate',
      '/v1/sessions ',
      '/refresh',
      '-X DELETE',
      '/revoke-all',
      '/revoke-others',
      '/v1/logout',
      '/sessions \\',
    ]) {
      expect(text).toContain(route)
    }
  })

  it('runs each example in order: curl exits 0 and the answer has the documented shape', async () => {
    for (const example of examples) {
      const command = example.command.replaceAll(DOCUMENTED_ADDR, sidecar.url)
      expect(command, `docs/sidecar.md:${example.line} uses the documented address`).toContain(sidecar.url)
      const result = await sh(command, env)
      expect(result.code, `docs/sidecar.md:${example.line} exit code (${result.stderr})`).toBe(0)
      let actual: unknown
      expect(() => {
        actual = JSON.parse(result.stdout)
      }, `docs/sidecar.md:${example.line} prints JSON`).not.toThrow()
      conform(actual, example.expected, `docs/sidecar.md:${example.line}`)
    }
  })
})
