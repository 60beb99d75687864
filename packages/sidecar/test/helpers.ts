import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { SessionStore } from '@coresdk/core/store'
import { createRedisSessionStore } from '@coresdk/redis-store'
import { freePort, type JwksServer, startJwksServer, TestIssuer } from '@coresdk/testing'
import type { Cluster, Redis } from 'ioredis'

/** The package directory, where the bins run from. */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
/** How a test runs a TypeScript bin: straight from source. */
export const NODE_ARGS = ['--conditions=@coresdk/source', '--import', 'tsx']

/** A 32-byte-plus secret for tests. */
export const SECRET = 'sidecar-test-secret-0123456789abcdefghij'

/** A sidecar process started by a test. */
export interface SidecarProcess {
  readonly url: string
  readonly port: number
  readonly pid: number
  /** Every stdout and stderr line so far. */
  readonly output: string[]
  /** The structured log entries so far (JSON lines). */
  logs(): Array<Record<string, unknown>>
  /** Sends a signal (SIGKILL to crash, SIGSTOP to freeze, SIGCONT to thaw). */
  signal(signal: NodeJS.Signals): void
  /** Resolves the exit code and signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** The base environment of a child: no CORESDK_* or REDIS_URL leaks in from the machine running the tests. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG'])
    if (process.env[name] !== undefined) base[name] = process.env[name]!
  return { ...base, ...env }
}

/** Spawns `coresdk-sidecar` with `env` and resolves once it answers /healthz (rejects if it exits first). */
export async function startSidecar(
  env: Record<string, string>,
  options: { port?: number } = {},
): Promise<SidecarProcess> {
  const port = options.port ?? (await freePort())
  const child = spawn(process.execPath, [...NODE_ARGS, 'src/bin/sidecar.ts'], {
    cwd: PACKAGE_DIR,
    env: childEnv({ CORESDK_SIDECAR_PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      output.push(...lines)
    })
  }
  collect(child.stdout!)
  collect(child.stderr!)
  const exited = once(child, 'exit').then(
    ([code, signal]) => ({ code, signal }) as { code: number | null; signal: NodeJS.Signals | null },
  )
  const url = `http://127.0.0.1:${port}`
  let gone = false
  void exited.then(() => {
    gone = true
  })
  const deadline = Date.now() + 30_000
  for (;;) {
    if (gone) throw new Error(`the sidecar exited while starting:\n${output.join('\n')}`)
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) })
      if (response.ok) break
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the sidecar did not come up within 30 s:\n${output.join('\n')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    port,
    pid: child.pid!,
    output,
    logs: () =>
      output.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>]
        } catch {
          return []
        }
      }),
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT')
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        const result = await exited
        clearTimeout(timer)
        return result
      }
      return exited
    },
  }
}

/** Runs a sidecar that must fail to start; resolves its exit code and output. */
export function runSidecarExpectingFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, 'src/bin/sidecar.ts'],
      { cwd: PACKAGE_DIR, env: childEnv(env), timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? null) : 0
        resolve({ code: typeof code === 'number' ? code : null, output: `${stdout}${stderr}` })
      },
    )
  })
}

/** Runs the `coresdk` CLI; resolves its exit code and outputs. */
export function runCoresdk(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, 'src/bin/coresdk.ts', ...args],
      { cwd: PACKAGE_DIR, env: childEnv(env), timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** An issuer and its JWKS endpoint, and the CORESDK_* settings that make an engine accept its tokens. */
export interface Identity {
  issuer: TestIssuer
  jwks: JwksServer
  env: Record<string, string>
  jwt: { issuer: string; audience: string; algorithms: ['RS256']; jwksUri: string }
  close(): Promise<void>
}

/** Starts a test issuer (RS256) with a real JWKS server on 127.0.0.1. */
export async function startIdentity(): Promise<Identity> {
  const issuer = await TestIssuer.create({ alg: 'RS256', audience: 'sidecar-api' })
  const jwks = await startJwksServer({ keys: [issuer.keys] })
  return {
    issuer,
    jwks,
    env: {
      CORESDK_JWT_ISSUER: issuer.issuer,
      CORESDK_JWT_AUDIENCE: issuer.audience,
      CORESDK_JWT_ALGORITHMS: 'RS256',
      CORESDK_JWKS_URL: jwks.jwksUrl,
    },
    jwt: { issuer: issuer.issuer, audience: issuer.audience, algorithms: ['RS256'], jwksUri: jwks.jwksUrl },
    close: () => jwks.close(),
  }
}

/** Calls the sidecar's HTTP API and reads the JSON answer. */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
  }
  const response = await fetch(`${base}${path}`, init)
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: response.status, headers: response.headers, json, text }
}

export const bearer = (token: string) => `Bearer ${token}`

/** A Redis session store over `client`, subscribed to revocations, and how to close both. */
export async function redisStoreOver(
  client: Redis | Cluster,
): Promise<{ store: SessionStore; close(): Promise<void> }> {
  client.on('error', () => {})
  const store = createRedisSessionStore({ client })
  await store.ready()
  return {
    store,
    close: async () => {
      await store.close()
      client.disconnect()
    },
  }
}
