import { createHmac, randomBytes } from 'node:crypto'
import { CoreSDKClient } from '@coresdk/core'
import { serveParent } from '../children.ts'

// Heap per session in the memory store: run with --expose-gc, tokens made before the baseline, the verify cache off.
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('memory-worker needs --expose-gc')

const secret = randomBytes(32)
const issuer = 'https://issuer.bench/'
const audience = 'bench-api'
const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url')
const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))

/** An HS256 token signed with Node's own HMAC: fast enough to make 100,000 of them before measuring. */
function sign(i: number, iat: number): string {
  const payload = b64(
    JSON.stringify({
      iss: issuer,
      aud: audience,
      sub: `user-${i}`,
      email: `user-${i}@example.com`,
      jti: `t-${i}`,
      iat,
      exp: iat + 3600,
    }),
  )
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
  return `${header}.${payload}.${signature}`
}

function settle(): number {
  for (let i = 0; i < 3; i++) gc!()
  return process.memoryUsage().heapUsed
}

serveParent({
  async measure(message) {
    const count = Number(message.count)
    const sdk = new CoreSDKClient({
      tenantId: 'bench',
      jwt: { issuer, audience, algorithms: ['HS256'], secret, cacheSize: 0 },
      env: {},
    })
    const iat = Math.floor(Date.now() / 1000)
    const headers = Array.from({ length: count }, (_, i) => `Bearer ${sign(i, iat)}`)
    // One request first, so lazily built state (the imported key, compiled code) is not counted as sessions.
    await sdk.authenticate({ authorization: `Bearer ${sign(count, iat)}` })
    const before = settle()
    let refused = 0
    for (let i = 0; i < count; i += 250) {
      const batch = await Promise.all(
        headers.slice(i, i + 250).map((authorization) => sdk.authenticate({ authorization })),
      )
      for (const result of batch) if (!result.ok) refused++
    }
    const after = settle()
    if (refused > 0) throw new Error(`${refused} of ${count} tokens were refused`)
    const listed = await sdk.sessions().listForUser('user-0')
    await sdk.close()
    return {
      count,
      heapDelta: after - before,
      bytesPerSession: (after - before) / count,
      sampleSessions: listed.length,
    }
  },
})
