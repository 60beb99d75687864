import { parseArgs } from 'node:util'
import { SIDECAR_KEY_HEADER, SIDECAR_TENANT_HEADER } from '@coresdk/core'

/** Where the CLI writes, and the environment it reads (`CORESDK_SIDECAR_ADDR`, `CORESDK_SIDECAR_SECRET`). */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

const USAGE = `Usage: coresdk sessions <command> [options]

Commands:
  list <userId>         the user's active sessions (--all: revoked and expired ones too)
  get <sessionId>       one session
  revoke <sessionId>    revoke one session
  revoke-all <userId>   revoke every session of a user, and every token issued to them until now

Options:
  --addr <url>      the sidecar (env CORESDK_SIDECAR_ADDR; default http://127.0.0.1:7233)
  --secret <s>      the sidecar secret (env CORESDK_SIDECAR_SECRET; prefer the variable: arguments show in ps)
  --tenant <id>     check that the secret serves this tenant (env CORESDK_TENANT_ID)
  --json            print JSON instead of a table
  --all             with list: include revoked and expired sessions
  --timeout <ms>    give up after this long (default 5000)
  -h, --help        this help

Exit codes: 0 done, 1 failed (not found, refused, unreachable), 2 usage error.
`

class Failure extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message)
  }
}

interface WireSession {
  id: string
  userId: string
  origin: string
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  revokedAt: string | null
  active: boolean
  meta?: Record<string, string>
}

function status(session: WireSession): string {
  if (session.revokedAt !== null) return 'revoked'
  return session.active ? 'active' : 'expired'
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return `${rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`
}

function sessionRows(sessions: WireSession[]): string {
  const header = ['ID', 'USER', 'ORIGIN', 'CREATED', 'LAST SEEN', 'EXPIRES', 'STATUS']
  return table([
    header,
    ...sessions.map((s) => [s.id, s.userId, s.origin, s.createdAt, s.lastSeenAt, s.expiresAt, status(s)]),
  ])
}

function sessionDetail(s: WireSession): string {
  const rows = [
    ['id', s.id],
    ['user', s.userId],
    ['status', status(s)],
    ['origin', s.origin],
    ['created', s.createdAt],
    ['last seen', s.lastSeenAt],
    ['expires', s.expiresAt],
    ['revoked', s.revokedAt ?? '-'],
    ...Object.entries(s.meta ?? {}).map(([name, value]) => [name, value]),
  ]
  return table(rows)
}

/**
 * Runs `coresdk <argv>` against a sidecar and resolves the exit code: 0 done, 1 failed, 2 usage error.
 * @example
 * process.exitCode = await runCli(process.argv.slice(2))
 */
export async function runCli(
  argv: string[],
  io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  },
): Promise<number> {
  try {
    await run(argv, io)
    return 0
  } catch (error) {
    if (error instanceof Failure) {
      io.stderr(`coresdk: ${error.message}\n`)
      if (error.exitCode === 2) io.stderr('Run `coresdk --help` for usage.\n')
      return error.exitCode
    }
    io.stderr('coresdk: unexpected failure\n')
    return 1
  }
}

async function run(argv: string[], io: CliIo): Promise<void> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new Failure((error as Error).message, 2)
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.stdout(USAGE)
    return
  }
  const [group, command, argument, ...rest] = positionals
  if (group !== 'sessions')
    throw new Failure(group === undefined ? 'missing command' : `unknown command "${group}"`, 2)
  if (!command || !['list', 'get', 'revoke', 'revoke-all'].includes(command)) {
    throw new Failure(
      command === undefined ? 'missing sessions command' : `unknown sessions command "${command}"`,
      2,
    )
  }
  if (!argument)
    throw new Failure(
      `sessions ${command} needs ${command === 'list' || command === 'revoke-all' ? '<userId>' : '<sessionId>'}`,
      2,
    )
  if (rest.length > 0) throw new Failure(`unexpected argument "${rest[0]}"`, 2)
  const addr = values.addr ?? io.env.CORESDK_SIDECAR_ADDR ?? 'http://127.0.0.1:7233'
  let base: URL
  try {
    base = new URL(addr)
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('protocol')
  } catch {
    throw new Failure(`--addr "${addr}" is not an http:// or https:// URL`, 2)
  }
  const timeout = values.timeout === undefined ? 5000 : Number(values.timeout)
  if (!Number.isInteger(timeout) || timeout <= 0)
    throw new Failure('--timeout takes a positive number of milliseconds', 2)
  const secret = values.secret ?? io.env.CORESDK_SIDECAR_SECRET
  const tenant = values.tenant ?? io.env.CORESDK_TENANT_ID
  const json = values.json === true

  const call = async (
    method: string,
    path: string,
  ): Promise<{ status: number; data: Record<string, unknown> }> => {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (secret) headers[SIDECAR_KEY_HEADER] = secret
    if (tenant) headers[SIDECAR_TENANT_HEADER] = tenant
    const url = `${base.href.replace(/\/+$/, '')}${path}`
    let response: Response
    try {
      response = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeout) })
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError'
      throw new Failure(
        timedOut
          ? `no answer from the sidecar at ${base.origin} within ${timeout} ms`
          : `cannot reach the sidecar at ${base.origin}`,
        1,
      )
    }
    const text = await response.text()
    let data: Record<string, unknown>
    try {
      data = JSON.parse(text) as Record<string, unknown>
    } catch {
      throw new Failure(
        `the sidecar at ${base.origin} answered ${response.status} with something other than JSON`,
        1,
      )
    }
    if (response.status === 401)
      throw new Failure('the sidecar refused the secret: set CORESDK_SIDECAR_SECRET or --secret', 1)
    if (response.status === 403)
      throw new Failure(
        `the sidecar refused the request (${String(data.code)}): check --tenant and the secret`,
        1,
      )
    if (response.status >= 500)
      throw new Failure(`the sidecar is unavailable (${response.status} ${String(data.code)})`, 1)
    return { status: response.status, data }
  }

  const id = encodeURIComponent(argument)
  switch (command) {
    case 'list': {
      const { status: code, data } = await call(
        'GET',
        `/v1/users/${id}/sessions${values.all ? '?includeInactive=true' : ''}`,
      )
      if (code !== 200) throw new Failure(`the sidecar answered ${code} (${String(data.code)})`, 1)
      const sessions = data.sessions as WireSession[]
      if (json) io.stdout(`${JSON.stringify(sessions, null, 2)}\n`)
      else if (sessions.length === 0)
        io.stdout(`No ${values.all ? '' : 'active '}sessions for user ${argument}.\n`)
      else io.stdout(sessionRows(sessions))
      return
    }
    case 'get': {
      const { status: code, data } = await call('GET', `/v1/sessions/${id}`)
      if (code === 404) throw new Failure(`no session ${argument}`, 1)
      if (code !== 200) throw new Failure(`the sidecar answered ${code} (${String(data.code)})`, 1)
      // The claims stay out of the default view; --json shows the whole record.
      io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : sessionDetail(data as unknown as WireSession))
      return
    }
    case 'revoke': {
      const { status: code, data } = await call('DELETE', `/v1/sessions/${id}`)
      if (code === 404) throw new Failure(`no session ${argument}`, 1)
      if (code !== 200) throw new Failure(`the sidecar answered ${code} (${String(data.code)})`, 1)
      io.stdout(
        json ? `${JSON.stringify({ id: argument, revoked: true })}\n` : `Revoked session ${argument}.\n`,
      )
      return
    }
    case 'revoke-all': {
      const { status: code, data } = await call('POST', `/v1/users/${id}/revoke-all`)
      if (code !== 200) throw new Failure(`the sidecar answered ${code} (${String(data.code)})`, 1)
      const count = Number(data.revoked)
      io.stdout(
        json
          ? `${JSON.stringify({ userId: argument, revoked: count })}\n`
          : `Revoked ${count} session${count === 1 ? '' : 's'} of user ${argument}; tokens issued to them until now are refused.\n`,
      )
      return
    }
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      addr: { type: 'string' },
      secret: { type: 'string' },
      tenant: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
