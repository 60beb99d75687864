import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { CoreSDKClient, CoreSDKError, type Session } from '@coresdk/core'
import { type AuditVerification, verifyAuditChain } from '@coresdk/core/audit'
import { sessionToWire, type WireSession } from '@coresdk/core/sidecar-protocol'
import { readPostgresAuditLog } from '@coresdk/postgres-store'
import { readRedisAuditStream } from '@coresdk/redis-store'
import { Redis } from 'ioredis'
import pg from 'pg'

/**
 * Where the CLI writes, and the environment it reads (`CORESDK_SIDECAR_ADDR`, `CORESDK_SIDECAR_SECRET`,
 * `CORESDK_TENANT_ID`).
 */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

const USAGE = `Usage: coresdk sessions <command> [options]
       coresdk audit verify <file> | --redis <url> [--stream <key>] | --postgres <url> [--schema <s>] [--table-prefix <p>]

Commands:
  audit verify          check an audit trail's hash chain; name its first broken link
                        (--expect-head <hash>: the chain must end at this hash, recorded elsewhere)
  list <userId>         the user's active sessions (--all: revoked and expired ones too)
  get <sessionId>       one session
  revoke <sessionId>    revoke one session
  revoke-all <userId>   revoke every session of a user, and every token issued to them until now
  revoke-others <userId> <keepSessionId>
                        revoke every session of a user but the one kept

Options:
  --addr <url>      the sidecar (env CORESDK_SIDECAR_ADDR; default http://127.0.0.1:7233)
  --secret <s>      the sidecar secret (env CORESDK_SIDECAR_SECRET; prefer the variable: arguments show in ps)
  --tenant <id>     the tenant, which the secret must serve (env CORESDK_TENANT_ID; default "default")
  --json            print JSON instead of a table
  --all             with list: include revoked and expired sessions
  --timeout <ms>    give up after this long, 10 to 60000 (default 5000)
  -h, --help        this help

Exit codes: 0 done (audit verify: the chain is intact), 1 failed (not found, refused, unreachable; audit
verify: the chain is broken or cannot be read), 2 usage error.
`

// Each command and the arguments it takes, in order.
const ARGUMENTS: Record<string, string[]> = {
  list: ['<userId>'],
  get: ['<sessionId>'],
  revoke: ['<sessionId>'],
  'revoke-all': ['<userId>'],
  'revoke-others': ['<userId>', '<keepSessionId>'],
}

const MAX_TIMEOUT_MS = 60_000
// C0, DEL and C1: what a terminal may read as a command (ESC sequences, CSI as one C1 byte, BEL, backspace).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what they are for
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what they are for
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g
const DEL_AND_C1 = /[\u007f-\u009f]/g

const escapeControl = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/** A stored value as it may reach a terminal: every control character written as its `\\u` escape (ESC → `\\u001b`). */
export function printable(value: string): string {
  return value.replace(CONTROLS, escapeControl)
}

class Failure extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message)
  }
}

function status(session: Session): string {
  if (session.revokedAt !== null) return 'revoked'
  return session.isActive() ? 'active' : 'expired'
}

function table(cells: string[][]): string {
  const rows = cells.map((row) => row.map(printable))
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return `${rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`
}

function sessionRows(sessions: Session[]): string {
  const header = ['ID', 'USER', 'ORIGIN', 'CREATED', 'LAST SEEN', 'EXPIRES', 'STATUS']
  return table([
    header,
    ...sessions.map((s) => [
      s.id,
      s.userId,
      s.origin,
      s.createdAt.toISOString(),
      s.lastSeenAt.toISOString(),
      s.expiresAt.toISOString(),
      status(s),
    ]),
  ])
}

function sessionDetail(s: Session): string {
  return table([
    ['id', s.id],
    ['user', s.userId],
    ['status', status(s)],
    ['origin', s.origin],
    ['created', s.createdAt.toISOString()],
    ['last seen', s.lastSeenAt.toISOString()],
    ['expires', s.expiresAt.toISOString()],
    ['revoked', s.revokedAt?.toISOString() ?? '-'],
    ...Object.entries(s.meta),
  ])
}

/** JSON as it may reach a terminal: `JSON.stringify` escapes C0 but leaves DEL and C1 raw, inside strings only. */
function toJson(value: unknown, indent = 2): string {
  return `${JSON.stringify(value, null, indent).replace(DEL_AND_C1, escapeControl)}\n`
}

/** The CLI's one-line reason for a failed call: what to fix, never a secret. */
function failure(error: unknown, origin: string, timeout: number): Failure {
  const failed = CoreSDKError.from(error)
  switch (failed.code) {
    case 'sidecar_unavailable': {
      // Unreachable and silent sidecars fail in fetch (the cause); a sidecar that answered 503 has no cause.
      const cause = failed.cause as { name?: unknown } | undefined
      if (cause === undefined) return new Failure('the sidecar is unavailable (sidecar_unavailable)', 1)
      if (cause.name === 'TimeoutError' || cause.name === 'AbortError')
        return new Failure(`no answer from the sidecar at ${origin} within ${timeout} ms`, 1)
      return new Failure(`cannot reach the sidecar at ${origin}`, 1)
    }
    case 'store_unavailable':
      return new Failure(
        'the sidecar is unavailable (store_unavailable): its session store does not answer',
        1,
      )
    case 'invalid_config':
      // The sidecar refused the secret or the tenant: the client's message names the settings to check.
      return new Failure(`${failed.message} (--secret, --tenant)`, 1)
    default:
      return new Failure(`the sidecar refused the request (${failed.code})`, 1)
  }
}

/**
 * Runs `coresdk <argv>` against a sidecar, through a `CoreSDKClient` in sidecar mode, and resolves the exit code:
 * 0 done, 1 failed, 2 usage error.
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
  // Everything written passes a last filter: the CLI's own line breaks stay, any other control is escaped.
  const safe: CliIo = {
    env: io.env,
    stdout: (text) => io.stdout(text.replace(CONTROLS_BUT_NEWLINE, escapeControl)),
    stderr: (text) => io.stderr(text.replace(CONTROLS_BUT_NEWLINE, escapeControl)),
  }
  try {
    await run(argv, safe)
    return 0
  } catch (error) {
    if (error instanceof Failure) {
      safe.stderr(`coresdk: ${printable(error.message)}\n`)
      if (error.exitCode === 2) safe.stderr('Run `coresdk --help` for usage.\n')
      return error.exitCode
    }
    safe.stderr('coresdk: unexpected failure\n')
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
  if (group === 'audit') return audit(command, argument, rest, values, io)
  if (group !== 'sessions')
    throw new Failure(group === undefined ? 'missing command' : `unknown command "${group}"`, 2)
  const needs = command === undefined ? undefined : ARGUMENTS[command]
  if (!command || needs === undefined) {
    throw new Failure(
      command === undefined ? 'missing sessions command' : `unknown sessions command "${command}"`,
      2,
    )
  }
  if (!argument || rest.length < needs.length - 1)
    throw new Failure(`sessions ${command} needs ${needs.join(' ')}`, 2)
  if (rest.length > needs.length - 1) throw new Failure(`unexpected argument "${rest[needs.length - 1]}"`, 2)
  const addr = values.addr ?? io.env.CORESDK_SIDECAR_ADDR ?? 'http://127.0.0.1:7233'
  let base: URL
  try {
    base = new URL(addr)
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('protocol')
  } catch {
    throw new Failure(`--addr "${addr}" is not an http:// or https:// URL`, 2)
  }
  const timeout = values.timeout === undefined ? 5000 : Number(values.timeout)
  if (!Number.isInteger(timeout) || timeout < 10 || timeout > MAX_TIMEOUT_MS)
    throw new Failure(`--timeout takes a number of milliseconds from 10 to ${MAX_TIMEOUT_MS}`, 2)
  const secret = values.secret ?? io.env.CORESDK_SIDECAR_SECRET
  const tenant = values.tenant ?? io.env.CORESDK_TENANT_ID
  const json = values.json === true

  let sdk: CoreSDKClient
  try {
    // The same client a service runs in sidecar mode; no cache, so what is printed is what the sidecar holds now.
    sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: base.href,
      ...(secret ? { sidecarSecret: secret } : {}),
      ...(tenant ? { tenantId: tenant } : {}),
      sidecar: { timeout, cacheTtl: 0 },
    })
  } catch (error) {
    throw new Failure(CoreSDKError.from(error).message, 2)
  }
  try {
    await execute(sdk, command, [argument, rest[0]], { json, all: values.all === true }, io)
  } catch (error) {
    throw error instanceof Failure ? error : failure(error, base.origin, timeout)
  } finally {
    await sdk.close()
  }
}

async function execute(
  sdk: CoreSDKClient,
  command: string,
  [argument, second]: [string, string | undefined],
  { json, all }: { json: boolean; all: boolean },
  io: CliIo,
): Promise<void> {
  const sessions = sdk.sessions()
  // An operator at the CLI: the sidecar's lifecycle events name the admin as the actor.
  const admin = { actor: 'admin' } as const
  switch (command) {
    case 'list': {
      const found = await sessions.listForUser(argument, { includeInactive: all })
      if (json) io.stdout(toJson(found.map(sessionToWire)))
      else if (found.length === 0)
        io.stdout(`No ${all ? '' : 'active '}sessions for user ${printable(argument)}.\n`)
      else io.stdout(sessionRows(found))
      return
    }
    case 'get': {
      const session = await sessions.get(argument)
      if (session === null) throw new Failure(`no session ${printable(argument)}`, 1)
      // The claims stay out of the default view; --json shows the whole record.
      io.stdout(json ? toJson(sessionToWire(session) satisfies WireSession) : sessionDetail(session))
      return
    }
    case 'revoke': {
      if (!(await sessions.revoke(argument, admin))) throw new Failure(`no session ${printable(argument)}`, 1)
      io.stdout(
        json ? toJson({ id: argument, revoked: true }, 0) : `Revoked session ${printable(argument)}.\n`,
      )
      return
    }
    case 'revoke-all': {
      const count = await sessions.revokeAllForUser(argument, admin)
      io.stdout(
        json
          ? toJson({ userId: argument, revoked: count }, 0)
          : `Revoked ${count} session${count === 1 ? '' : 's'} of user ${printable(argument)}; tokens issued to them until now are refused.\n`,
      )
      return
    }
    case 'revoke-others': {
      const count = await sessions.revokeOthersForUser(argument, second!, admin)
      io.stdout(
        json
          ? toJson({ userId: argument, kept: second, revoked: count }, 0)
          : `Revoked ${count} session${count === 1 ? '' : 's'} of user ${printable(argument)}; kept ${printable(second!)}.\n`,
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
      redis: { type: 'string' },
      stream: { type: 'string' },
      postgres: { type: 'string' },
      schema: { type: 'string' },
      'table-prefix': { type: 'string' },
      'expect-head': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

type Values = ReturnType<typeof parse>['values']

const HASH = /^[0-9a-fA-F]{64}$/

/** `coresdk audit verify`: reads one chain (a file, a Redis Stream or a PostgreSQL table) and checks it. */
async function audit(
  command: string | undefined,
  file: string | undefined,
  rest: string[],
  values: Values,
  io: CliIo,
): Promise<void> {
  if (command !== 'verify')
    throw new Failure(
      command === undefined ? 'missing audit command' : `unknown audit command "${command}"`,
      2,
    )
  const sources = [file, values.redis, values.postgres].filter((source) => source !== undefined)
  if (sources.length !== 1)
    throw new Failure('audit verify takes one of <file>, --redis <url> or --postgres <url>', 2)
  if (rest.length > 0) throw new Failure(`unexpected argument "${rest[0]}"`, 2)
  const expectHead = values['expect-head']
  if (expectHead !== undefined && !HASH.test(expectHead))
    throw new Failure('--expect-head takes a record hash (64 hexadecimal digits)', 2)
  const options = expectHead === undefined ? {} : { expectHead }
  let result: AuditVerification
  let unit: string
  if (file !== undefined) {
    unit = 'line'
    const input = createReadStream(file, { encoding: 'utf8' })
    const failed = new Promise<never>((_, reject) => input.once('error', reject))
    try {
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
      result = await Promise.race([verifyAuditChain(lines, options), failed])
    } catch {
      throw new Failure(`cannot read ${printable(file)}`, 1)
    } finally {
      input.destroy()
    }
  } else if (values.redis !== undefined) {
    unit = 'entry'
    result = await fromRedis(values.redis, values.stream ?? 'coresdk:audit', options)
  } else {
    unit = 'row'
    result = await fromPostgres(values.postgres!, values.schema, values['table-prefix'], options)
  }
  if (values.json) {
    io.stdout(toJson(result, 0))
    if (!result.ok) throw new Failure(`audit chain broken (${result.reason})`, 1)
    return
  }
  if (result.ok) {
    io.stdout(
      `Audit chain intact: ${result.count} record${result.count === 1 ? '' : 's'}, head seq ${result.head.seq} ${result.head.hash}.\n`,
    )
    return
  }
  const where =
    result.seq === null ? `${unit} ${result.position}` : `${unit} ${result.position} (seq ${result.seq})`
  throw new Failure(
    `audit chain broken at ${where}: ${result.reason}: ${result.detail} (${result.count} records intact before it)`,
    1,
  )
}

async function fromRedis(
  url: string,
  stream: string,
  options: { expectHead?: string },
): Promise<AuditVerification> {
  let client: Redis
  try {
    if (!/^rediss?:\/\//.test(url)) throw new Error('protocol')
    client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 })
  } catch {
    throw new Failure('--redis takes a redis:// or rediss:// URL', 2)
  }
  client.on('error', () => {})
  try {
    await client.connect()
    return await verifyAuditChain(readRedisAuditStream(client, stream), options)
  } catch {
    // The URL may hold a password: never echoed.
    throw new Failure('cannot read the audit stream from Redis (--redis, --stream)', 1)
  } finally {
    client.disconnect()
  }
}

async function fromPostgres(
  url: string,
  schema: string | undefined,
  tablePrefix: string | undefined,
  options: { expectHead?: string },
): Promise<AuditVerification> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Failure('--postgres takes a postgres:// URL', 2)
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 })
  pool.on('error', () => {})
  const names = {
    ...(schema === undefined ? {} : { schema }),
    ...(tablePrefix === undefined ? {} : { tablePrefix }),
  }
  try {
    return await verifyAuditChain(readPostgresAuditLog(pool, names), options)
  } catch (error) {
    if (CoreSDKError.from(error).code === 'invalid_config')
      throw new Failure(`${CoreSDKError.from(error).message} (--schema, --table-prefix)`, 2)
    throw new Failure('cannot read the audit table from PostgreSQL (--postgres, --schema, --table-prefix)', 1)
  } finally {
    await pool.end().catch(() => {})
  }
}
