import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { resolveConfig } from '../src/config.ts'
import { CoreSDKClient } from '../src/index.ts'
import { createTestKeys, startJwksServer, TestIssuer } from './kit.ts'

const page = readFileSync(new URL('../../../docs/jwt-authentication.md', import.meta.url), 'utf8')
const source = readFileSync(new URL(import.meta.url), 'utf8')

// The page's TypeScript snippets, verbatim (imports aside) inside functions: tsc type-checks them, the test runs them.
export async function example(token: string): Promise<void> {
  // snippet: example
  const sdk = new CoreSDKClient({
    tenantId: 'acme',
    serviceName: 'my-api',
    jwt: {
      issuer: 'https://id.example.com/',
      audience: 'my-api',
      algorithms: ['RS256'],
      jwksUri: 'https://id.example.com/.well-known/jwks.json',
    },
  })

  async function check(token: string) {
    const decision = await sdk.auth().authorize({ token })
    if (decision.allowed) {
      console.log(decision.claims.sub, decision.claims.email)
    } else {
      // A ready HTTP answer: status, headers (WWW-Authenticate or Retry-After) and an RFC 9457 body.
      console.log(decision.reason, decision.problem.status, decision.problem.body.code)
    }
  }
  // end
  await check(token)
}

async function testingKit(): Promise<void> {
  // snippet: testing
  const issuer = await TestIssuer.create({ alg: 'ES256', issuer: 'https://id.test/', audience: 'my-api' })
  const jwks = await startJwksServer({ keys: [issuer.keys] })
  const sdk = new CoreSDKClient({
    jwt: { issuer: 'https://id.test/', audience: 'my-api', algorithms: ['ES256'], jwksUri: jwks.jwksUrl },
  })

  const token = await issuer.mint({ email: 'ada@example.com' }) // iss, aud, sub, iat, exp (5 min), kid
  console.log((await sdk.auth().authorize({ token })).allowed) // true

  // Rotate, take the endpoint down, slow it down, and count its requests:
  jwks.rotate([(await createTestKeys('ES256')).publicJwk!])
  await jwks.setDown('error') // or 'hang' (never answers), 'refuse' (connection refused); false to restore
  jwks.setDelay(200)
  console.log(jwks.requestCount)

  await sdk.close()
  await jwks.close()
  // end
}

function dedent(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n')
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length))
  return lines.map((l) => l.slice(indent)).join('\n')
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('docs/jwt-authentication.md', () => {
  it('every TypeScript snippet is one type-checked here (imports aside)', () => {
    const tested = new Set(
      [...source.matchAll(/\/\/ snippet: [\w-]+\n([\s\S]*?)\n\s*\/\/ end/g)].map((m) => dedent(m[1]!)),
    )
    const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) =>
      dedent(m[1]!.replace(/^import .*\n/gm, '').replace(/^\n+/, '')),
    )
    expect(blocks).toHaveLength(2)
    for (const block of blocks) expect(tested, `snippet not covered here:\n${block}`).toContain(block)
  })

  it('lists every jwt setting with its env var and default, and those env vars work', () => {
    const env: Record<string, string> = {
      CORESDK_JWT_ISSUER: 'https://i/',
      CORESDK_JWT_AUDIENCE: 'a',
      CORESDK_JWT_ALGORITHMS: 'RS256',
      CORESDK_JWKS_URL: 'https://i/jwks',
    }
    const defaults = resolveConfig({ env }).jwt
    const rows = new Map(
      [...page.matchAll(/^\| `jwt\.(\w+)` *\| `(CORESDK_\w+)` *\| ([^|]+) \|/gm)].map((m) => [
        m[1]!,
        { env: m[2]!, default: m[3]!.trim() },
      ]),
    )
    expect([...rows.keys()].sort()).toEqual(Object.keys(defaults).sort())
    const samples: Record<string, [string, unknown]> = {
      issuer: ['https://x/', ['https://x/']],
      audience: ['b', ['b']],
      idTokenAudience: ['c', ['c']],
      algorithms: ['ES256', ['ES256']],
      jwksUri: ['https://x/jwks', 'https://x/jwks'],
      publicKeys: [
        '-----BEGIN PUBLIC KEY-----\\nAA\\n-----END PUBLIC KEY-----',
        ['-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----'],
      ],
      clockTolerance: ['7', 7],
      maxTokenBytes: ['4096', 4096],
      requiredType: ['at+jwt', 'at+jwt'],
      tenantClaim: ['tid', 'tid'],
      jwksCacheMaxAge: ['2000', 2000],
      jwksCooldown: ['100', 100],
      jwksTimeout: ['100', 100],
      cacheSize: ['0', 0],
    }
    for (const [setting, row] of rows) {
      const value = (defaults as Record<string, unknown>)[setting]
      if (typeof value === 'number') expect(row.default.replace(/ ms| s/, ''), setting).toBe(`\`${value}\``)
      if (setting === 'secret') {
        const hs = resolveConfig({
          env: { ...env, CORESDK_JWKS_URL: '', CORESDK_JWT_ALGORITHMS: 'HS256', [row.env]: 'x'.repeat(32) },
        })
        expect(hs.jwt.secret?.byteLength).toBe(32)
        continue
      }
      const [input, expected] = samples[setting]!
      expect(resolveConfig({ env: { ...env, [row.env]: input } }).jwt[setting as 'issuer'], setting).toEqual(
        expected,
      )
    }
  })

  it('the testing snippet runs: a token from the test issuer is allowed', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    await testingKit()
    expect(log.mock.calls).toEqual([[true], [1]])
  })
})
