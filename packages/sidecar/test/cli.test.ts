import { runCli } from '@coresdk/sidecar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  api,
  bearer,
  type Identity,
  runCoresdk,
  SECRET,
  type SidecarProcess,
  startIdentity,
  startSidecar,
} from './helpers.ts'

describe('the coresdk admin CLI against a real sidecar', () => {
  let identity: Identity
  let sidecar: SidecarProcess
  let env: Record<string, string>
  const ids: string[] = []
  // The session a bearer token of `sub` gets on its first request through the sidecar.
  const firstRequest = async (sub: string, jti: string) => {
    const token = await identity.issuer.mint({ sub, jti })
    const answer = await api(
      sidecar.url,
      'POST',
      '/v1/authenticate',
      { authorization: bearer(token), userAgent: 'cli-test' },
      { 'x-coresdk-sidecar-key': SECRET },
    )
    return (answer.json.session as { id: string }).id
  }

  beforeAll(async () => {
    identity = await startIdentity()
    sidecar = await startSidecar({
      ...identity.env,
      CORESDK_TENANT_ID: 'acme',
      CORESDK_SIDECAR_SECRET: SECRET,
    })
    env = { CORESDK_SIDECAR_ADDR: sidecar.url, CORESDK_SIDECAR_SECRET: SECRET, CORESDK_TENANT_ID: 'acme' }
    for (const jti of ['cli-1', 'cli-2', 'cli-3']) ids.push(await firstRequest('usr_cli', jti))
  })
  afterAll(async () => {
    await sidecar?.stop()
    await identity?.close()
  })

  it('lists a user’s sessions as a table, and as JSON with --json', async () => {
    const table = await runCoresdk(['sessions', 'list', 'usr_cli'], env)
    expect(table).toMatchObject({ code: 0, stderr: '' })
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+USER\s+ORIGIN\s+CREATED\s+LAST SEEN\s+EXPIRES\s+STATUS$/)
    expect(lines).toHaveLength(4)
    for (const id of ids)
      expect(table.stdout).toMatch(new RegExp(`${id}\\s+usr_cli\\s+token\\s+\\S+\\s+\\S+\\s+\\S+\\s+active`))

    const json = await runCoresdk(['sessions', 'list', 'usr_cli', '--json'], env)
    expect(json.code).toBe(0)
    expect((JSON.parse(json.stdout) as Array<{ id: string }>).map((s) => s.id).sort()).toEqual(
      [...ids].sort(),
    )
  })

  it('gets one session, revokes it, and says so; a second look shows it revoked', async () => {
    const got = await runCoresdk(['sessions', 'get', ids[0]!], env)
    expect(got.code).toBe(0)
    expect(got.stdout).toMatch(new RegExp(`^id\\s+${ids[0]}$`, 'm'))
    expect(got.stdout).toMatch(/^status\s+active$/m)
    expect(got.stdout).toMatch(/^userAgent\s+cli-test$/m)
    const revoked = await runCoresdk(['sessions', 'revoke', ids[0]!], env)
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked session ${ids[0]}.\n` })
    const again = await runCoresdk(['sessions', 'get', ids[0]!, '--json'], env)
    expect(JSON.parse(again.stdout)).toMatchObject({ id: ids[0], active: false })
    expect(JSON.parse(again.stdout).revokedAt).not.toBeNull()
  })

  it('revokes every session of a user', async () => {
    const all = await runCoresdk(['sessions', 'revoke-all', 'usr_cli', '--json'], env)
    expect(all.code).toBe(0)
    expect(JSON.parse(all.stdout)).toEqual({ userId: 'usr_cli', revoked: 2 })
    const list = await runCoresdk(['sessions', 'list', 'usr_cli'], env)
    expect(list).toMatchObject({ code: 0, stdout: 'No active sessions for user usr_cli.\n' })
    const everything = await runCoresdk(['sessions', 'list', 'usr_cli', '--all'], env)
    expect(everything.stdout.match(/revoked$/gm)).toHaveLength(3)
  })

  it('revokes every session of a user but one; refuses to keep one that is not theirs, or a missing argument', async () => {
    const others: string[] = []
    for (const jti of ['cli-o-1', 'cli-o-2', 'cli-o-3'])
      others.push(await firstRequest('usr_cli_others', jti))
    const [kept, ...rest] = others
    const [notTheirs, missing] = await Promise.all([
      runCoresdk(['sessions', 'revoke-others', 'usr_cli_elsewhere', kept!], env),
      runCoresdk(['sessions', 'revoke-others', 'usr_cli_others'], env),
    ])
    expect(notTheirs).toMatchObject({
      code: 1,
      stderr: 'coresdk: the sidecar refused the request (invalid_request)\n',
    })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^coresdk: sessions revoke-others needs <userId> <keepSessionId>\n/)
    const done = await runCoresdk(['sessions', 'revoke-others', 'usr_cli_others', kept!], env)
    expect(done).toMatchObject({
      code: 0,
      stdout: `Revoked 2 sessions of user usr_cli_others; kept ${kept}.\n`,
    })
    const json = await runCoresdk(['sessions', 'revoke-others', 'usr_cli_others', kept!, '--json'], env)
    expect(JSON.parse(json.stdout)).toEqual({ userId: 'usr_cli_others', kept, revoked: 0 })
    const list = await runCoresdk(['sessions', 'list', 'usr_cli_others', '--json'], env)
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((s) => s.id)).toEqual([kept])
    for (const id of rest) {
      const got = await runCoresdk(['sessions', 'get', id, '--json'], env)
      expect(JSON.parse(got.stdout)).toMatchObject({ id, active: false })
    }
  })

  it('exits 1 with a clear message when the session is unknown, the secret wrong or the sidecar unreachable', async () => {
    // Independent runs, in parallel: each is a process of its own.
    const [unknown, revokeUnknown, wrong, none, tenant, down] = await Promise.all([
      runCoresdk(['sessions', 'get', 'sess_01HX7KQMB4ABCDEFGHJKMNPQRS'], env),
      runCoresdk(['sessions', 'revoke', 'sess_01HX7KQMB4ABCDEFGHJKMNPQRS'], env),
      runCoresdk(['sessions', 'list', 'usr_cli', '--secret', `${SECRET}-wrong`, '--tenant', 'acme'], {
        CORESDK_SIDECAR_ADDR: sidecar.url,
      }),
      runCoresdk(['sessions', 'list', 'usr_cli', '--addr', sidecar.url, '--tenant', 'acme']),
      runCoresdk(['sessions', 'list', 'usr_cli', '--tenant', 'globex'], env),
      runCoresdk(['sessions', 'list', 'usr_cli', '--addr', 'http://127.0.0.1:9'], env),
    ])
    expect(unknown).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'coresdk: no session sess_01HX7KQMB4ABCDEFGHJKMNPQRS\n',
    })
    expect(revokeUnknown.code).toBe(1)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^coresdk: The sidecar refused this client: check CORESDK_SIDECAR_SECRET/)
    expect(wrong.stderr).not.toContain(SECRET)
    expect(none).toMatchObject({ code: 1, stderr: wrong.stderr })
    expect(tenant).toMatchObject({ code: 1 })
    expect(tenant.stderr).toMatch(/refused this tenant for this client: check CORESDK_TENANT_ID/)
    expect(down).toMatchObject({
      code: 1,
      stderr: 'coresdk: cannot reach the sidecar at http://127.0.0.1:9\n',
    })
  })

  it('prints stored values with their control characters escaped: a planted user agent cannot drive the terminal', async () => {
    // ESC sequences (clear screen, set the window title, BEL), a C1 CSI, DEL and a line break that would forge a row.
    const userAgent = '\u001b[2J\u001b]0;owned\u0007Mozilla\u009b31m\u007f\nusr_fake  active'
    const sub = 'usr_\u001b[31mred\u0085'
    const token = await identity.issuer.mint({ sub, jti: 'cli-esc', name: 'Eve\u0008\u009d' })
    const planted = await api(
      sidecar.url,
      'POST',
      '/v1/authenticate',
      { authorization: bearer(token), userAgent },
      { 'x-coresdk-sidecar-key': SECRET },
    )
    const id = (planted.json.session as { id: string }).id
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/
    const runs = await Promise.all([
      runCoresdk(['sessions', 'get', id], env),
      runCoresdk(['sessions', 'get', id, '--json'], env),
      runCoresdk(['sessions', 'list', sub], env),
      runCoresdk(['sessions', 'list', sub, '--json'], env),
      runCoresdk(['sessions', 'get', 'sess_\u001b[2J'], env),
    ])
    for (const [i, run] of runs.entries()) {
      expect(run.stdout, `run ${i} stdout`).not.toMatch(raw)
      expect(run.stderr, `run ${i} stderr`).not.toMatch(raw)
    }
    const [detail, json, list, listJson, unknown] = runs
    expect(detail!.code).toBe(0)
    expect(detail!.stdout).toContain(
      '\\u001b[2J\\u001b]0;owned\\u0007Mozilla\\u009b31m\\u007f\\u000ausr_fake  active',
    )
    expect(detail!.stdout).toMatch(/^user\s+usr_\\u001b\[31mred\\u0085$/m)
    // The line break in the value did not make a line of its own.
    expect(detail!.stdout.split('\n').filter((line) => line.startsWith('usr_fake'))).toEqual([])
    // --json stays JSON that reads back to the stored values.
    const session = JSON.parse(json!.stdout) as {
      meta: Record<string, string>
      claims: Record<string, unknown>
    }
    expect(session.meta.userAgent).toBe(userAgent)
    expect(session.claims).toMatchObject({ sub, name: 'Eve\u0008\u009d' })
    expect(json!.stdout).toContain('\\u009b31m\\u007f')
    expect(list!.stdout).toContain(`${id}  usr_\\u001b[31mred\\u0085`)
    expect((JSON.parse(listJson!.stdout) as Array<{ userId: string }>)[0]!.userId).toBe(sub)
    expect(unknown).toMatchObject({ code: 1, stderr: 'coresdk: no session sess_\\u001b[2J\n' })
  })

  it('exits 2 on a usage error and prints help with --help', async () => {
    const spawned = await runCoresdk([], env)
    expect(spawned).toMatchObject({
      code: 2,
      stderr: 'coresdk: missing command\nRun `coresdk --help` for usage.\n',
    })
    // The other cases in process, through the same function the bin runs.
    for (const args of [
      ['users'],
      ['sessions'],
      ['sessions', 'list'],
      ['sessions', 'drop', 'x'],
      ['sessions', 'list', 'u', '--bogus'],
      ['sessions', 'list', 'u', 'v'],
      ['sessions', 'list', 'u', '--addr', 'ftp://x'],
      ['sessions', 'list', 'u', '--timeout=0'],
      ['sessions', 'list', 'u', '--timeout=60001'],
      ['sessions', 'list', 'u', '--tenant', 'not a tenant'],
    ]) {
      let stderr = ''
      const code = await runCli(args, { stdout: () => {}, stderr: (text) => (stderr += text), env })
      expect(code, args.join(' ')).toBe(2)
      expect(stderr, args.join(' ')).toMatch(/^coresdk: .+\nRun `coresdk --help` for usage.\n$/)
    }
    const help = await runCoresdk(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: coresdk sessions <command> [options]')
  })
})
