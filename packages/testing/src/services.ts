import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A Redis server for a test: its URL and how to stop it (null when the test did not start it), or why there is none. */
export type RedisService =
  | { url: string; stop: (() => Promise<void>) | null; reason?: undefined }
  | { url: null; stop: null; reason: string }

/** A Redis Cluster started for a test. */
export interface RedisClusterService {
  /** The master nodes, each owning a third of the slots. */
  nodes: Array<{ host: string; port: number }>
  /** Stops every node and removes the cluster's files. */
  stop(): Promise<void>
}

/** A `redis-server` process started for a test. */
export interface RedisServerProcess {
  url: string
  port: number
  /** Kills the process and removes its working directory. */
  stop(): Promise<void>
}

/** Whether a missing service must fail the test instead of skipping it (`CORESDK_REQUIRE_SERVICES=1`). */
export function requireServices(env: Record<string, string | undefined> = process.env): boolean {
  return env.CORESDK_REQUIRE_SERVICES === '1' || env.CORESDK_REQUIRE_SERVICES === 'true'
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Sends one inline command to a Redis server and resolves its first reply line, or null on any failure or timeout. */
export function redisCommand(
  host: string,
  port: number,
  command: string,
  timeoutMs = 1000,
): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = new Socket()
    let data = ''
    const done = (value: string | null) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(value)
    }
    const timer = setTimeout(() => done(null), timeoutMs)
    socket.once('error', () => done(null))
    socket.connect(port, host, () => socket.write(`${command}\r\n`))
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      if (data.startsWith('$')) {
        // A bulk reply: wait for the length line and the payload.
        const header = data.indexOf('\r\n')
        if (header === -1) return
        const length = Number(data.slice(1, header))
        if (length < 0) return done('')
        if (data.length >= header + 2 + length) done(data.slice(header + 2, header + 2 + length))
        return
      }
      const end = data.indexOf('\r\n')
      if (end !== -1) done(data.slice(0, end))
    })
  })
}

/** Whether the Redis server at `url` answers PING. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  const port = Number(parsed.port || 6379)
  const reply = await redisCommand(parsed.hostname, port, 'PING', timeoutMs)
  // An authenticated server answers NOAUTH; it is there, but this helper cannot use it.
  return reply === '+PONG'
}

async function which(command: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('which', [command], (error, stdout) => resolve(error ? null : stdout.trim() || null))
  })
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function killProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve()
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL')
        } catch {}
      }
    }, 3000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    try {
      process.kill(child.pid, 'SIGTERM')
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}

/**
 * Starts a `redis-server` of its own on a free port (no persistence), waits until it answers, and returns how to stop it.
 * Rejects when `redis-server` is not installed or does not start.
 */
export async function startRedisServer(
  options: { port?: number; args?: string[] } = {},
): Promise<RedisServerProcess> {
  const binary = await which('redis-server')
  if (binary === null) throw new Error('redis-server is not installed (Debian package redis-server)')
  const port = options.port ?? (await freePort())
  const dir = await mkdtemp(join(tmpdir(), 'coresdk-redis-'))
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.args ?? []),
    ],
    { stdio: 'ignore' },
  )
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  child.once('error', () => {
    exited = true
  })
  const stop = async () => {
    await killProcess(child)
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server exited while starting on port ${port}`)
        // Another server may already answer on this port: only our own process counts.
        const info = await redisCommand('127.0.0.1', port, 'INFO server', 500)
        return info?.includes(`process_id:${child.pid}\r\n`) === true
      },
      10_000,
      'redis-server',
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop }
}

/**
 * A Redis for tests: `REDIS_URL` (default `redis://127.0.0.1:6379`) when it answers PING, else a `redis-server` started
 * on a free port. When neither is possible it returns the reason (for `describe.skipIf`), or throws when
 * `CORESDK_REQUIRE_SERVICES=1`.
 * @example
 * const redis = await ensureRedis()
 * describe.skipIf(redis.url === null)(`redis store ${redis.reason ?? ''}`, () => { … })
 */
export async function ensureRedis(
  env: Record<string, string | undefined> = process.env,
): Promise<RedisService> {
  const url = env.REDIS_URL || 'redis://127.0.0.1:6379'
  if (await pingRedis(url)) return { url, stop: null }
  try {
    const server = await startRedisServer()
    return { url: server.url, stop: server.stop }
  } catch (error) {
    const reason = `no Redis: ${url} does not answer and none could be started (${(error as Error).message})`
    if (requireServices(env)) throw new Error(`${reason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
    return { url: null, stop: null, reason }
  }
}

/**
 * Starts a Redis Cluster of `size` masters (no replicas) on free ports, joins them with `redis-cli --cluster create`
 * and waits for `cluster_state:ok` on every node.
 */
export async function startRedisCluster(size = 3): Promise<RedisClusterService> {
  const cli = await which('redis-cli')
  if (cli === null) throw new Error('redis-cli is not installed (Debian package redis-tools)')
  const servers: RedisServerProcess[] = []
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()))
  }
  try {
    for (let i = 0; i < size; i++) {
      servers.push(
        await startRedisServer({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      )
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`)
    await new Promise<void>((resolve, reject) => {
      execFile(
        cli,
        ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 30_000 },
        (error, _stdout, stderr) =>
          error
            ? reject(new Error(`redis-cli --cluster create failed: ${stderr || error.message}`))
            : resolve(),
      )
    })
    await waitFor(
      async () => {
        const states = await Promise.all(
          servers.map((server) => redisCommand('127.0.0.1', server.port, 'CLUSTER INFO', 1000)),
        )
        return states.every((info) => info?.includes('cluster_state:ok') === true)
      },
      20_000,
      'Redis Cluster',
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })), stop }
}

/** A PostgreSQL server for a test: its URL and how to stop it (null when the test did not start it), or why there is none. */
export type PostgresService =
  | { url: string; stop: (() => Promise<void>) | null; reason?: undefined }
  | { url: null; stop: null; reason: string }

/** A PostgreSQL cluster of its own (initdb into a temporary folder), started for a test. */
export interface PostgresServerProcess {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  url: string
  port: number
  /** The postmaster's process id while it runs. */
  pid(): number | undefined
  /** A fast shutdown (SIGINT): every client is disconnected; the data is kept for `start()`. */
  stop(): Promise<void>
  /** An immediate shutdown (SIGQUIT), as after a crash: what was not yet written to the WAL is lost. */
  crash(): Promise<void>
  /** Starts the stopped server again, on the same port and with the same data. */
  start(): Promise<void>
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>
}

/**
 * Sends a PostgreSQL StartupMessage and resolves the first reply's type: `R` (authentication: the server accepts
 * connections), `E` (an error: starting up, shutting down, no such database), or null when nothing answers in time.
 */
export function postgresStartup(
  host: string,
  port: number,
  user: string,
  database: string,
  timeoutMs = 1000,
): Promise<'R' | 'E' | null> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (value: 'R' | 'E' | null) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(value)
    }
    const timer = setTimeout(() => done(null), timeoutMs)
    socket.once('error', () => done(null))
    socket.connect(port, host, () => {
      const body = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8')
      const header = Buffer.alloc(8)
      header.writeInt32BE(8 + body.length, 0)
      header.writeInt32BE(196_608, 4) // protocol 3.0
      socket.write(Buffer.concat([header, body]))
    })
    socket.once('data', (chunk: Buffer) => {
      const type = String.fromCharCode(chunk[0] ?? 0)
      done(type === 'R' || type === 'E' ? type : null)
    })
  })
}

/** Whether the PostgreSQL server at `url` accepts a connection to its database (authentication may follow). */
export async function pingPostgres(url: string, timeoutMs = 1000): Promise<boolean> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  const user = decodeURIComponent(parsed.username) || 'postgres'
  const database = decodeURIComponent(parsed.pathname.slice(1)) || user
  const reply = await postgresStartup(parsed.hostname, Number(parsed.port || 5432), user, database, timeoutMs)
  return reply === 'R'
}

/** The folder of Debian's PostgreSQL binaries (the newest version), or of `initdb` on PATH. */
async function postgresBinDir(): Promise<string | null> {
  const root = '/usr/lib/postgresql'
  const versions = await readdir(root).catch(() => [] as string[])
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0]
  if (newest !== undefined) return join(root, newest, 'bin')
  const initdb = await which('initdb')
  return initdb === null ? null : join(initdb, '..')
}

function run(file: string, args: string[], options: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, timeout: 60_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${file} failed: ${stderr || error.message}`)) : resolve(),
    )
  })
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user. */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {}
  const read = (flag: string) =>
    new Promise<number>((resolve, reject) => {
      execFile('id', [flag, 'postgres'], (error, stdout) =>
        error ? reject(new Error('running as root, and there is no postgres user')) : resolve(Number(stdout)),
      )
    })
  return { uid: await read('-u'), gid: await read('-g') }
}

/**
 * Creates a PostgreSQL cluster in a temporary folder (`initdb`, trust authentication, no fsync) and starts it on a
 * free port of 127.0.0.1, as the `postgres` user when running as root, with `args` added to the server's command
 * line (`['-c', 'name=value']`). Rejects when the binaries are missing.
 */
export async function startPostgresServer(
  options: { port?: number; args?: string[] } = {},
): Promise<PostgresServerProcess> {
  const bin = await postgresBinDir()
  if (bin === null) throw new Error('PostgreSQL is not installed (Debian package postgresql)')
  const owner = await postgresUser()
  const port = options.port ?? (await freePort())
  const dir = await mkdtemp(join(tmpdir(), 'coresdk-postgres-'))
  const data = join(dir, 'data')
  if (owner.uid !== undefined) await chown(dir, owner.uid, owner.gid!)
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      owner,
    )
  } catch (error) {
    await remove()
    throw error
  }
  let child: ChildProcess | null = null
  const start = async () => {
    const server = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        ...(options.args ?? []),
      ],
      { ...owner, stdio: 'ignore' },
    )
    child = server
    let exited = false
    server.once('exit', () => {
      exited = true
    })
    server.once('error', () => {
      exited = true
    })
    await waitFor(
      async () => {
        if (exited) throw new Error(`postgres exited while starting on port ${port}`)
        return (await postgresStartup('127.0.0.1', port, 'postgres', 'postgres', 500)) === 'R'
      },
      20_000,
      'postgres',
    )
  }
  const halt = async (signal: 'SIGINT' | 'SIGQUIT') => {
    const server = child
    child = null
    if (server === null || server.exitCode !== null || server.signalCode !== null) return
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
    // SIGINT is the fast shutdown (SIGTERM would wait for every client to leave); SIGQUIT if that hangs.
    server.kill(signal)
    const timer = setTimeout(() => server.kill('SIGQUIT'), 10_000)
    await exited
    clearTimeout(timer)
  }
  const stop = () => halt('SIGINT')
  try {
    await start()
  } catch (error) {
    await stop()
    await remove()
    throw error
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid: () => child?.pid,
    stop,
    crash: () => halt('SIGQUIT'),
    start,
    destroy: async () => {
      await stop()
      await remove()
    },
  }
}

/**
 * A PostgreSQL for tests: `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) when it answers, else a
 * cluster of its own started by {@link startPostgresServer}. When neither is possible it returns the reason (for
 * `describe.skipIf`), or throws when `CORESDK_REQUIRE_SERVICES=1`.
 * @example
 * const postgres = await ensurePostgres()
 * describe.skipIf(postgres.url === null)(`postgres store ${postgres.reason ?? ''}`, () => { … })
 */
export async function ensurePostgres(
  env: Record<string, string | undefined> = process.env,
): Promise<PostgresService> {
  const url = env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
  if (await pingPostgres(url)) return { url, stop: null }
  try {
    const server = await startPostgresServer()
    return { url: server.url, stop: server.destroy }
  } catch (error) {
    const reason = `no PostgreSQL: ${url} does not answer and none could be started (${(error as Error).message})`
    if (requireServices(env)) throw new Error(`${reason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
    return { url: null, stop: null, reason }
  }
}
