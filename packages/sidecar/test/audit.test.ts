import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreSDKClient } from '@coresdk/core'
import { createAuditTrail } from '@coresdk/core/audit'
import { createApp } from '@coresdk/example-express/app'
import { serve } from '@coresdk/example-express/serve'
import { createRedisAuditSink, createRedisSessionStore } from '@coresdk/redis-store'
import { ensurePostgres, ensureRedis } from '@coresdk/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bearer,
  type Identity,
  runCoresdk,
  SECRET,
  type SidecarProcess,
  startIdentity,
  startSidecar,
} from './helpers.ts'

// The audit trail of a real run: an Express app (the SDK in sidecar mode) whose requests create, refresh and revoke
// sessions through a sidecar process writing CORESDK_AUDIT_FILE, an operator's revoke-all through the `coresdk` CLI,
// and a back-channel-style revoke by the IdP; then `coresdk audit verify` on the file, intact and tampered with.

const redis = await ensureRedis()
const postgres = await ensurePostgres()
afterAll(async () => {
  await redis.stop?.()
  await postgres.stop?.()
})

const dir = mkdtempSync(join(tmpdir(), 'coresdk-audit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const cliEnv = { CORESDK_SIDECAR_SECRET: SECRET }
const verify = (...args: string[]) => runCoresdk(['audit', 'verify', ...args])

describe('coresdk audit verify on the trail of a real run (sidecar process, Express app, CLI)', () => {
  let identity: Identity
  let sidecar: SidecarProcess
  const file = join(dir, 'audit.jsonl')
  const tokens: string[] = []
  let lines: string[] = []
  let sessions: Record<string, string> = {}

  beforeAll(async () => {
    identity = await startIdentity()
    sidecar = await startSidecar({
      ...identity.env,
      CORESDK_SIDECAR_SECRET: SECRET,
      CORESDK_AUDIT_FILE: file,
    })
    const sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: sidecar.url,
      sidecarSecret: SECRET,
      sidecar: { cacheTtl: 0, timeout: 5000 },
    })
    const app = await serve(createApp(sdk))
    try {
      const mint = async (sub: string) => {
        const token = await identity.issuer.mint({ sub, jti: crypto.randomUUID() })
        tokens.push(token)
        return token
      }
      const me = async (token: string) => {
        const response = await fetch(`${app.url}/api/me`, { headers: { authorization: bearer(token) } })
        expect(response.status).toBe(200)
        return ((await response.json()) as { session_id: string }).session_id
      }
      const alice1 = await mint('alice')
      const alice2 = await mint('alice')
      const bob = await mint('bob')
      // Each token's first request creates its session.
      sessions = { alice1: await me(alice1), alice2: await me(alice2), bob: await me(bob) }
      // The service renews a session (sliding renewal).
      await sdk.sessions().refresh(sessions.alice1!)
      // Alice ends her second session from the first.
      const deleted = await fetch(`${app.url}/api/sessions/${sessions.alice2}`, {
        method: 'DELETE',
        headers: { authorization: bearer(alice1) },
      })
      expect(deleted.status).toBe(204)
      // The IdP ends Bob's session: the call a back-channel logout makes (packages/oidc tests the real one).
      expect(await sdk.sessions().revoke(sessions.bob!, { actor: 'idp' })).toBe(true)
      // An operator revokes every session of Alice through the CLI.
      const cli = await runCoresdk(['sessions', 'revoke-all', 'alice', '--addr', sidecar.url], cliEnv)
      expect(cli.code, cli.stderr).toBe(0)
    } finally {
      await app.close()
      await sdk.close()
      // A graceful stop flushes the trail.
      expect((await sidecar.stop()).code).toBe(0)
      await identity.close()
    }
    lines = readFileSync(file, 'utf8').trim().split('\n')
  })

  it('records each change once, with who acted, in order', () => {
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(records.map(({ type, actor }) => `${type} ${actor}`)).toEqual([
      'session.created user',
      'session.created user',
      'session.created user',
      'session.refreshed service',
      'session.revoked user',
      'session.revoked idp',
      'user.sessions_revoked admin',
    ])
    expect(records[0]).toMatchObject({
      v: 1,
      seq: 1,
      userId: 'alice',
      sessionId: sessions.alice1,
      origin: 'token',
    })
    expect(records[6]).toMatchObject({ userId: 'alice', scope: 'all', sessionIds: [sessions.alice1] })
    expect(records.every((r) => typeof r.at === 'number' && r.tenantId === 'default')).toBe(true)
  })

  it('no token, token signature or secret appears in any record', () => {
    const text = readFileSync(file, 'utf8')
    expect(tokens).toHaveLength(3)
    for (const token of tokens) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(token.split('.')[2]!)
    }
    expect(text).not.toContain(SECRET)
  })

  it('passes on the intact chain: exit 0 and a one-line summary; --expect-head with its head too', async () => {
    const result = await verify(file)
    expect(result.code, result.stderr).toBe(0)
    const head = JSON.parse(lines[6]!).hash as string
    expect(result.stdout).toBe(`Audit chain intact: 7 records, head seq 7 ${head}.\n`)
    expect((await verify(file, '--expect-head', head)).code).toBe(0)
  })

  const tampered = (name: string, edit: (lines: string[]) => string[]) => {
    const path = join(dir, name)
    writeFileSync(path, `${edit([...lines]).join('\n')}\n`)
    return path
  }

  it('finds a record a test altered, naming its line, seq and the reason', async () => {
    // The operator's revoke-all made to look like the user's own.
    const path = tampered('altered.jsonl', (l) => {
      l[6] = l[6]!.replace('"actor":"admin"', '"actor":"user"')
      return l
    })
    const result = await verify(path)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('audit chain broken at line 7 (seq 7): altered')
  })

  it('finds a deleted record', async () => {
    const result = await verify(tampered('deleted.jsonl', (l) => l.filter((_, i) => i !== 4)))
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('audit chain broken at line 5 (seq 6): missing: seq 5 is missing')
  })

  it('finds a swapped pair', async () => {
    const result = await verify(
      tampered('swapped.jsonl', (l) => {
        ;[l[2], l[3]] = [l[3]!, l[2]!]
        return l
      }),
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('audit chain broken at line 3 (seq 4): reordered')
  })

  it('a cut tail passes alone and fails against the head recorded elsewhere', async () => {
    const path = tampered('cut.jsonl', (l) => l.slice(0, 6))
    expect((await verify(path)).code).toBe(0)
    const result = await verify(path, '--expect-head', JSON.parse(lines[6]!).hash)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('head_mismatch')
  })

  it('prints nothing raw from a record, and refuses bad usage with exit 2', async () => {
    const path = tampered('escape.jsonl', (l) => {
      l[1] = l[1]!.replace('"alice"', '"\u001b]0;owned\u0007alice"')
      return l
    })
    const result = await verify(path)
    expect(result.code).toBe(1)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect((await verify()).code).toBe(2)
    expect((await verify(file, '--redis', 'redis://127.0.0.1:1')).code).toBe(2)
    expect((await verify(file, '--expect-head', 'nothex')).code).toBe(2)
    const missing = await verify(join(dir, 'nope.jsonl'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('cannot read')
  })

  it('a restarted sidecar goes on with the same file: the chain stays one', async () => {
    const again = await startSidecar({
      ...identity.env,
      CORESDK_SIDECAR_SECRET: SECRET,
      CORESDK_AUDIT_FILE: file,
    })
    try {
      const cli = await runCoresdk(['sessions', 'revoke-all', 'carol', '--addr', again.url], cliEnv)
      expect(cli.code, cli.stderr).toBe(0)
    } finally {
      await again.stop()
    }
    const result = await verify(file)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('8 records, head seq 8')
  })
})

describe.skipIf(redis.url === null)(
  `one Redis Stream, a sidecar and an embedded service ${redis.reason ?? ''}`,
  () => {
    it('both append to one chain, which coresdk audit verify --redis checks', async () => {
      const stream = `audit-e2e:${crypto.randomUUID()}`
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
      const identity = await startIdentity()
      const sidecar = await startSidecar({
        ...identity.env,
        CORESDK_SIDECAR_SECRET: SECRET,
        REDIS_URL: redis.url!,
        CORESDK_SESSION_ENCRYPTION_KEY: key,
        CORESDK_AUDIT_REDIS_STREAM: stream,
      })
      const client = new Redis(redis.url!, { maxRetriesPerRequest: 1 })
      const store = createRedisSessionStore({ client, subscriber: null })
      const sdk = new CoreSDKClient({ env: {}, jwt: identity.jwt, sessions: { store, encryptionKey: key } })
      const trail = createAuditTrail(sdk, { sink: createRedisAuditSink({ client, stream }) })
      const app = await serve(createApp(sdk))
      try {
        for (let i = 0; i < 5; i++) {
          const token = await identity.issuer.mint({ sub: `dan${i}`, jti: crypto.randomUUID() })
          // The service's requests and the operator's CLI calls at once.
          const [me, cli] = await Promise.all([
            fetch(`${app.url}/api/me`, { headers: { authorization: bearer(token) } }),
            runCoresdk(['sessions', 'revoke-all', `erin${i}`, '--addr', sidecar.url], cliEnv),
          ])
          expect(me.status).toBe(200)
          expect(cli.code, cli.stderr).toBe(0)
        }
        await trail.flush()
      } finally {
        await app.close()
        await trail.close()
        await sdk.close()
        await sidecar.stop()
        await identity.close()
      }
      const result = await verify('--redis', redis.url!, '--stream', stream)
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toContain('Audit chain intact: 10 records')
      const actors = (await client.xrange(stream, '-', '+')).map(([, f]) => JSON.parse(f[3]!).actor)
      expect(actors.filter((a) => a === 'admin')).toHaveLength(5)
      // An entry changed in Redis is found.
      const [[id, fields]] = (await client.xrange(stream, '-', '+', 'COUNT', 1)) as [[string, string[]]]
      await client.xdel(stream, id)
      const broken = await verify('--redis', redis.url!, '--stream', stream)
      expect(broken.code).toBe(1)
      expect(broken.stderr).toContain('entry 1 (seq 2): bad_genesis')
      expect(fields[0]).toBe('h')
      await client.del(stream)
      client.disconnect()
    })
  },
)

describe.skipIf(postgres.url === null)(`coresdk audit verify --postgres ${postgres.reason ?? ''}`, () => {
  it('checks the audit table of a store schema', async () => {
    const { createPostgresAuditSink, migrate } = await import('@coresdk/postgres-store')
    const pg = (await import('pg')).default
    const schema = `t_audit_cli_${Date.now().toString(36)}`
    const pool = new pg.Pool({ connectionString: postgres.url! })
    try {
      await migrate(pool, { schema })
      const sink = createPostgresAuditSink({ pool, schema })
      const at = Date.now()
      await sink.append([
        {
          at,
          type: 'user.sessions_revoked',
          tenantId: 't',
          actor: 'admin',
          userId: 'u',
          scope: 'all',
          keptSessionId: null,
          sessionIds: [],
        },
        {
          at,
          type: 'session.revoked',
          tenantId: 't',
          actor: 'idp',
          userId: 'u',
          sessionId: 's',
          reason: 'requested',
        },
      ])
      const ok = await verify('--postgres', postgres.url!, '--schema', schema)
      expect(ok.code, ok.stderr).toBe(0)
      expect(ok.stdout).toContain('2 records')
      await pool.query(
        `UPDATE "${schema}".coresdk_audit_log SET record = replace(record, '"idp"', '"user"') WHERE seq = 2`,
      )
      const broken = await verify('--postgres', postgres.url!, '--schema', schema)
      expect(broken.code).toBe(1)
      expect(broken.stderr).toContain('row 2 (seq 2): altered')
      expect((await verify('--postgres', postgres.url!, '--schema', 'Bad-Name')).code).toBe(2)
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
      await pool.end()
    }
  })
})
