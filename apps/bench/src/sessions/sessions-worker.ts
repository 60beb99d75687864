import { performance } from 'node:perf_hooks'
import { CoreSDKClient } from '@coresdk/core'
import { TestIssuer } from '@coresdk/testing'
import { serveParent } from '../children.ts'
import { readFixture } from '../fixture.ts'
import { percentile } from '../stats.ts'
import { openStore, type StoreKind } from '../stores.ts'

// Direct `sdk.sessions()` calls against one store, in their own process.
const kind = process.argv[2] as StoreKind
const fixture = readFixture()
const opened = await openStore(kind, fixture)
if (!opened.ok) {
  process.send?.({ type: 'ready', unavailable: opened.reason })
  process.exit(0)
}
// HS256 keeps the token check inside `create` short, so the figures are mostly the store's.
const issuer = await TestIssuer.create({
  alg: 'HS256',
  issuer: 'https://issuer.bench/',
  audience: 'bench-api',
})
const sdk = new CoreSDKClient({
  tenantId: `bench-${fixture.runId}-${kind}`,
  jwt: issuer.jwtOptions(),
  // Sessions sealed into a store that other processes read need one shared key.
  sessions: { store: opened.store, encryptionKey: new Uint8Array(32).fill(7) },
  env: {},
})
const idToken = await issuer.mint({ email: 'user-1@example.com' }, { expiresIn: 3600 })
const tokenSet = { id_token: idToken, access_token: idToken, expires_in: 3600, token_type: 'Bearer' }

const users = 50
let userCounter = 0
const idTokens = await Promise.all(
  Array.from({ length: users }, (_, i) => issuer.mint({ sub: `user-${i}` }, { expiresIn: 3600 })),
)
const nextTokenSet = (): typeof tokenSet => {
  const token = idTokens[userCounter++ % users]!
  return { ...tokenSet, id_token: token, access_token: token }
}
let ids: string[] = []

const ops: Record<string, (i: number) => Promise<unknown>> = {
  create: () => sdk.sessions().create(nextTokenSet()),
  get: (i) => sdk.sessions().get(ids[i % ids.length]!),
  revoke: (i) => sdk.sessions().revoke(ids[i]!),
}

async function createMany(count: number): Promise<string[]> {
  const made: string[] = []
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () => sdk.sessions().create(nextTokenSet())),
    )
    made.push(...batch.map((s) => s.id))
  }
  return made
}

/** Latency: `count` calls one after another. Throughput: `count` calls, `concurrency` in flight. */
async function measure(op: string, count: number, concurrency: number): Promise<Record<string, number>> {
  const run = ops[op]!
  if (op === 'revoke') ids = await createMany(count * 2)
  else if (op === 'get' && ids.length < 1000) ids = await createMany(1000)
  const times: number[] = []
  let offset = 0
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    await run(offset + i)
    times.push(performance.now() - start)
  }
  offset += count
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await run(offset + next++)
    }),
  )
  const elapsed = performance.now() - start
  return { opsPerSec: (count * 1000) / elapsed, p50: percentile(times, 50), p99: percentile(times, 99) }
}

serveParent(
  {
    async measure(message) {
      return measure(String(message.op), Number(message.count), Number(message.concurrency))
    },
  },
  {},
  async () => {
    await sdk.close()
    await opened.close()
  },
)
