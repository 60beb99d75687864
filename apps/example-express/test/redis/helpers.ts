import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { type JwksServer, startJwksServer, TestIssuer } from '@coresdk/testing'

/** The example app's folder (where `pnpm start` runs). */
export const APP_DIR = fileURLToPath(new URL('../..', import.meta.url))

/** A tenant id of its own per run, so that runs sharing a Redis never see each other's sessions. */
export function uniqueTenant(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/** A token issuer and the JWKS endpoint that publishes its key. */
export interface Identity {
  issuer: TestIssuer
  jwks: JwksServer
  /** The `CORESDK_JWT_*` / `CORESDK_JWKS_URL` environment that makes the app accept the issuer's tokens. */
  env: Record<string, string>
  close(): Promise<void>
}

/** Starts a JWKS server for a fresh ES256 issuer (ES256 signs fast, so tests can mint tokens inside load loops). */
export async function startIdentity(): Promise<Identity> {
  const issuer = await TestIssuer.create({ alg: 'ES256', issuer: 'https://issuer.redis.test/' })
  const jwks = await startJwksServer({ keys: [issuer.keys] })
  return {
    issuer,
    jwks,
    env: {
      CORESDK_JWT_ISSUER: issuer.issuer,
      CORESDK_JWT_AUDIENCE: issuer.audience,
      CORESDK_JWKS_URL: jwks.jwksUrl,
      CORESDK_JWT_ALGORITHMS: issuer.alg,
    },
    close: () => jwks.close(),
  }
}

/** An example app running as its own process. */
export interface AppProcess {
  url: string
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Whether the process is still running. */
  alive(): boolean
  /** SIGTERM, then SIGKILL after `ms`; resolves the exit code (null when killed by a signal). */
  stop(ms?: number): Promise<number | null>
}

/** The command of the app's `start` script (`node … src/main.ts`), with this Node binary. */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string }
  }
  const [node, ...args] = pkg.scripts.start.trim().split(/\s+/)
  if (node !== 'node') throw new Error('the start script is expected to run node')
  return args
}

/**
 * Starts the app as `pnpm start` does (its start script's command, run directly so that a signal reaches the app
 * itself and not a pnpm wrapper), configured only by `env` (plus PATH and HOME), and waits for the URL it prints.
 */
export async function startApp(env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, startCommand(), {
    cwd: APP_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the app printed no URL within 30 s:\n${stdout}\n${stderr}`))
    }, 30_000)
    const poll = setInterval(() => {
      const match = /https?:\/\/[^\s]+/.exec(stdout)
      if (!match) return
      clearTimeout(timer)
      clearInterval(poll)
      // The app prints `localhost`; 127.0.0.1 avoids a resolver step and an IPv6 attempt on every connection.
      resolve(match[0].replace(/\/$/, '').replace('//localhost', '//127.0.0.1'))
    }, 10)
    void exited.then((code) => {
      clearTimeout(timer)
      clearInterval(poll)
      reject(new Error(`the app exited with ${code} before listening:\n${stdout}\n${stderr}`))
    })
  })
  return {
    url,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(ms = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), ms)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** One HTTP answer: status 0 when there was none (connection error or the client's own timeout). */
export interface Answer {
  status: number
  body: string
  /** From the call to the end of the body, in ms. */
  elapsed: number
  /** `performance.now()` when the call was made and when the body had arrived. */
  startedAt: number
  endedAt: number
}

// Keep-alive connections: a poll costs one round trip, not a TCP handshake.
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

/** Sends one request (with `Authorization: Bearer token` when a token is given) and reads the whole answer. */
export function call(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  timeoutMs = 10_000,
): Promise<Answer> {
  const startedAt = performance.now()
  return new Promise((resolve) => {
    const done = (status: number, body: string) => {
      const endedAt = performance.now()
      resolve({ status, body, elapsed: endedAt - startedAt, startedAt, endedAt })
    }
    const req = request(`${baseUrl}${path}`, {
      method,
      agent,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      timeout: timeoutMs,
    })
    req.on('timeout', () => req.destroy(new Error('client timeout')))
    req.on('error', () => done(0, ''))
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => done(res.statusCode ?? 0, body))
      res.on('error', () => done(0, body))
    })
    req.end()
  })
}

/** The `session_id` of a 200 `/api/me` answer (null when degraded, or not a 200). */
export function sessionIdOf(answer: Answer): string | null {
  if (answer.status !== 200) return null
  try {
    const id = (JSON.parse(answer.body) as { session_id?: unknown }).session_id
    return typeof id === 'string' ? id : null
  } catch {
    return null
  }
}

/** Calls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  pauseMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(pauseMs)
  }
}

/** Waits until the app serves a verified token with a session stored in Redis (not degraded). */
export function waitUntilStoreWorks(
  app: AppProcess,
  issuer: TestIssuer,
  timeoutMs = 15_000,
): Promise<string> {
  return waitFor(
    `${app.url} serving sessions from Redis`,
    async () => {
      const token = await issuer.mint({ sub: 'usr_ready', sid: `ready-${Math.random()}` })
      return sessionIdOf(await call(app.url, 'GET', '/api/me', token)) ?? undefined
    },
    timeoutMs,
  )
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The p-th percentile (0 to 100, nearest rank) of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

/** Lines of the app's stderr that report an unhandled error (ioredis's "Unhandled error event", a rejection…). */
export function unhandledLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /unhandled|uncaught/i.test(line))
}
