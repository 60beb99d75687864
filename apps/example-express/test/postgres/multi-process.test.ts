import { ensurePostgres, type PostgresService } from '@coresdk/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AppProcess,
  call,
  type Identity,
  percentile,
  sessionIdOf,
  startApp,
  startIdentity,
  unhandledLines,
  uniqueTenant,
  waitUntilStoreWorks,
} from '../redis/helpers.ts'

const REVOCATIONS = 200
// First rounds, not measured: they pay for JIT compilation and new keep-alive connections, not for propagation.
const WARMUP = 10
const P99_LIMIT_MS = 100
const GIVE_UP_MS = 3000

const postgres: PostgresService = await ensurePostgres()
if (postgres.url === null) console.warn(`skipped PostgreSQL multi-process test: ${postgres.reason}`)

/** Polls `/api/me` back to back until 401; resolves the ms from `since` to the arrival of that 401. */
async function firstRefusal(app: AppProcess, token: string, since: number): Promise<number> {
  for (;;) {
    const answer = await call(app.url, 'GET', '/api/me', token)
    if (answer.status === 401) return answer.endedAt - since
    if (answer.status !== 200) throw new Error(`${app.url} answered ${answer.status} while polling`)
    if (answer.endedAt - since > GIVE_UP_MS) return Number.POSITIVE_INFINITY
  }
}

describe.skipIf(postgres.url === null)(
  `two example-express processes on one PostgreSQL database ${postgres.reason ?? ''}`,
  () => {
    let identity: Identity
    let a: AppProcess
    let b: AppProcess
    // A schema of its own per run: the apps create the tables in it on start, the test drops it at the end.
    const schema = `t_multi_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

    beforeAll(async () => {
      identity = await startIdentity()
      const env = {
        ...identity.env,
        CORESDK_TENANT_ID: uniqueTenant('multi-pg'),
        CORESDK_FAIL_MODE: 'closed',
        DATABASE_URL: postgres.url!,
        CORESDK_POSTGRES_SCHEMA: schema,
      }
      // Both start at once: their migrations take turns.
      ;[a, b] = await Promise.all([startApp(env), startApp(env)])
      await Promise.all([waitUntilStoreWorks(a, identity.issuer), waitUntilStoreWorks(b, identity.issuer)])
    }, 90_000)

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()])
      await identity?.close()
      const admin = new pg.Client({ connectionString: postgres.url! })
      await admin.connect()
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.end()
      await postgres.stop?.()
    })

    it('a logout on A is refused on B, and a session revoked on B is refused on A', async () => {
      const token = await identity.issuer.mint({ sub: 'usr_logout', sid: `logout-${Math.random()}` })
      const onA = await call(a.url, 'GET', '/api/me', token)
      const onB = await call(b.url, 'GET', '/api/me', token)
      expect(sessionIdOf(onA)).toMatch(/^sess_/)
      expect(sessionIdOf(onB)).toBe(sessionIdOf(onA))
      expect((await call(a.url, 'POST', '/auth/logout', token)).status).toBe(204)
      expect((await firstRefusal(b, token, performance.now())) < GIVE_UP_MS).toBe(true)
      expect((await call(b.url, 'GET', '/api/me', token)).status).toBe(401)

      const other = await identity.issuer.mint({ sub: 'usr_logout', sid: `delete-${Math.random()}` })
      const id = sessionIdOf(await call(a.url, 'GET', '/api/me', other))!
      expect(sessionIdOf(await call(b.url, 'GET', '/api/me', other))).toBe(id)
      expect((await call(b.url, 'DELETE', `/api/sessions/${id}`, other)).status).toBe(204)
      expect((await firstRefusal(a, other, performance.now())) < GIVE_UP_MS).toBe(true)
    })

    it('a logout-all on B refuses every token of the user on A, older sessions and tokens included', async () => {
      const tokens = await Promise.all(
        [1, 2, 3].map((i) => identity.issuer.mint({ sub: 'usr_all', sid: `all-${i}-${Math.random()}` })),
      )
      for (const token of tokens)
        expect(sessionIdOf(await call(a.url, 'GET', '/api/me', token))).toMatch(/^sess_/)
      expect((await call(b.url, 'POST', '/auth/logout-all', tokens[0])).status).toBe(204)
      for (const token of tokens)
        expect((await firstRefusal(a, token, performance.now())) < GIVE_UP_MS).toBe(true)
      // A token issued before the logout-all, never seen by either process, is refused too.
      const unseen = await identity.issuer.mint({
        sub: 'usr_all',
        sid: `unseen-${Math.random()}`,
        iat: Math.floor(Date.now() / 1000) - 60,
      })
      expect((await call(a.url, 'GET', '/api/me', unseen)).status).toBe(401)
    })

    it(`propagates ${REVOCATIONS} logouts from A to B with p99 ≤ ${P99_LIMIT_MS} ms`, async () => {
      const tokens = await Promise.all(
        Array.from({ length: WARMUP + REVOCATIONS }, (_, i) =>
          identity.issuer.mint({
            sub: `usr_mp_${i % 7}`,
            sid: `sid-${i}-${Math.random().toString(36).slice(2)}`,
          }),
        ),
      )
      const latencies: number[] = []
      for (const [i, token] of tokens.entries()) {
        // B sees the session first, so it holds it in its local cache when the revocation comes.
        const ids = [sessionIdOf(await call(a.url, 'GET', '/api/me', token))]
        ids.push(sessionIdOf(await call(b.url, 'GET', '/api/me', token)))
        expect(ids[0], `iteration ${i}`).toMatch(/^sess_/)
        expect(ids[1], `iteration ${i}`).toBe(ids[0])
        const revoke =
          i % 2 === 0
            ? await call(a.url, 'POST', '/auth/logout', token)
            : await call(a.url, 'DELETE', `/api/sessions/${ids[0]}`, token)
        expect(revoke.status, `iteration ${i}: revoke`).toBe(204)
        const refusal = await firstRefusal(b, token, revoke.endedAt)
        if (i >= WARMUP) latencies.push(refusal)
      }
      const p50 = percentile(latencies, 50)
      const p99 = percentile(latencies, 99)
      console.log(
        `PostgreSQL revocation propagation A→B over ${latencies.length} logouts: p50 ${p50.toFixed(1)} ms, ` +
          `p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      )
      expect(p99, `p99 ${p99.toFixed(1)} ms`).toBeLessThanOrEqual(P99_LIMIT_MS)
      for (const app of [a, b]) {
        expect(app.alive(), app.stderr()).toBe(true)
        expect(unhandledLines(app.stderr())).toEqual([])
      }
    }, 90_000)
  },
)
