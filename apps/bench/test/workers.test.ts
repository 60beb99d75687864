import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestIssuer } from '@coresdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killAllWorkers, liveWorkerCount, startWorker } from '../src/children.ts'
import type { Fixture } from '../src/fixture.ts'
import { FRAMEWORKS } from '../src/http/variants.ts'

let fixture: Fixture
let token: string

beforeAll(async () => {
  const issuer = await TestIssuer.create({
    alg: 'RS256',
    issuer: 'https://issuer.bench/',
    audience: 'bench-api',
  })
  token = await issuer.mint({ email: 'user-1@example.com' })
  fixture = {
    issuer: issuer.issuer,
    audience: issuer.audience,
    publicJwk: issuer.keys.publicJwk!,
    publicPem: issuer.keys.publicPem!,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    runId: `test${Date.now().toString(36)}`,
  }
})

afterAll(() => killAllWorkers())

async function get(port: number, authorization?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(
    `http://127.0.0.1:${port}/api/me`,
    authorization ? { headers: { authorization } } : {},
  )
  return { status: response.status, body: await response.json().catch(() => null) }
}

describe('steady-shapes.mjs, loaded first in every child', () => {
  // Without it, most server processes here ended with these caches megamorphic (measured: 9 of 9 Fastify ones).
  it('keeps the inline caches of the literal in process.nextTick monomorphic in a loaded server', async () => {
    const env = { BENCH_FIXTURE: JSON.stringify(fixture) }
    const printedTo = join(mkdtempSync(join(tmpdir(), 'coresdk-bench-')), 'stdout.txt')
    const { worker, ready } = await startWorker('http/server-worker.ts', {
      args: ['fastify', 'bare'],
      env,
      nodeArgs: ['--allow-natives-syntax'],
      stdoutFile: printedTo,
    })
    const { worker: load } = await startWorker('http/load-worker.ts')
    try {
      await load.request(
        {
          type: 'run',
          url: `http://127.0.0.1:${ready.port}/api/me`,
          connections: 50,
          amount: 40_000,
          durationSec: 0,
          headers: {},
        },
        60_000,
      )
      await worker.request({ type: 'inlineCaches' })
      await worker.stop(30_000)
      const printed = readFileSync(printedTo, 'utf8')
      const slot = /slot #\d+ DefineKeyedOwnPropertyInLiteral (\w+)/g
      // The literal's four properties: both ids, `callback` and `args`.
      expect([...printed.matchAll(slot)].map((m) => m[1])).toEqual([
        'MONOMORPHIC',
        'MONOMORPHIC',
        'MONOMORPHIC',
        'MONOMORPHIC',
      ])
    } finally {
      await Promise.all([worker.stop(), load.stop()])
    }
  }, 90_000)
})

describe('the bench apps', () => {
  for (const framework of FRAMEWORKS) {
    it(`${framework}: CoreSDK and the usual middleware accept the token and refuse its absence; bare answers anyway`, async () => {
      const env = { BENCH_FIXTURE: JSON.stringify(fixture) }
      const started = await Promise.all(
        (['bare', 'coresdk-memory', 'usual', 'empty'] as const).map((variant) =>
          startWorker('http/server-worker.ts', { args: [framework, variant], env, readyTimeoutMs: 60_000 }),
        ),
      )
      try {
        const [bare, core, usual, empty] = started.map(({ ready }) => Number(ready.port)) as [
          number,
          number,
          number,
          number,
        ]
        const bareAnswer = await get(bare)
        expect(bareAnswer).toMatchObject({ status: 200, body: { sub: 'user-1' } })
        expect(await get(empty)).toMatchObject({ status: 200, body: { sub: 'user-1' } })
        const withToken = await get(core, `Bearer ${token}`)
        expect(withToken).toMatchObject({ status: 200, body: { sub: 'user-1', email: 'user-1@example.com' } })
        expect((withToken.body as { session_id: string }).session_id).toMatch(/^sess_/)
        // Bare writes as many bytes as CoreSDK: no variant is measured on a shorter answer.
        expect(JSON.stringify(bareAnswer.body).length).toBe(JSON.stringify(withToken.body).length)
        expect((await get(core)).status).toBe(401)
        expect(await get(usual, `Bearer ${token}`)).toMatchObject({ status: 200, body: { sub: 'user-1' } })
        expect((await get(usual)).status).toBe(401)
        expect((await get(usual, `Bearer ${token}x`)).status).toBe(401)
      } finally {
        await Promise.all(started.map(({ worker }) => worker.stop()))
      }
      expect(
        started.every(({ worker }) => worker.process.exitCode !== null || worker.process.signalCode !== null),
      ).toBe(true)
    }, 120_000)
  }

  it('reports an unreachable Redis as unavailable instead of failing', async () => {
    const env = { BENCH_FIXTURE: JSON.stringify({ ...fixture, redisUrl: 'redis://127.0.0.1:1' }) }
    const { worker, ready } = await startWorker('http/server-worker.ts', {
      args: ['hono', 'coresdk-redis'],
      env,
    })
    expect(ready.unavailable).toBe('Redis unreachable')
    await worker.stop()
  }, 60_000)

  it('reports an unreachable PostgreSQL as unavailable instead of failing', async () => {
    const env = {
      BENCH_FIXTURE: JSON.stringify({ ...fixture, databaseUrl: 'postgres://postgres@127.0.0.1:1/test' }),
    }
    const { worker, ready } = await startWorker('http/server-worker.ts', {
      args: ['hono', 'coresdk-postgres'],
      env,
    })
    expect(ready.unavailable).toBe('PostgreSQL unreachable')
    await worker.stop()
  }, 60_000)

  it('kills every worker it started', async () => {
    const { worker } = await startWorker('http/load-worker.ts')
    expect(liveWorkerCount()).toBeGreaterThan(0)
    const exited = new Promise((resolve) => worker.process.once('exit', resolve))
    killAllWorkers()
    await exited
    expect(liveWorkerCount()).toBe(0)
  }, 60_000)
})
