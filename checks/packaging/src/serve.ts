import { type ChildProcess, spawn } from 'node:child_process'
import { type JwksServer, rawRequest, type TestIssuer } from '@coresdk/testing'

/** A server process started for a test. */
export interface ServedApp {
  url: string
  output(): string
  stop(): void
  /** Resolves once the process has exited. */
  exited: Promise<void>
}

/**
 * Starts `command` and resolves once `url` answers `GET /health` (or rejects with the process's output when it
 * exits first, or after `timeout` ms).
 */
export async function serve(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; url: string; timeout?: number },
): Promise<ServedApp> {
  // Its own process group: tsx runs the app in a child process of its own, which a kill of tsx alone would orphan.
  const child: ChildProcess = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk
  })
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.on('exit', () => {
      exited = true
      resolve()
    })
  })
  const app: ServedApp = {
    url: options.url,
    output: () => output,
    stop: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // The group is gone already.
      }
    },
    exited: exit,
  }
  const deadline = Date.now() + (options.timeout ?? 30_000)
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${command} exited before serving:\n${output}`)
    const answer = await rawRequest(options.url, 'GET', '/health').catch(() => undefined)
    if (answer) return app
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  app.stop()
  throw new Error(`${command} did not serve ${options.url} in time:\n${output}`)
}

/** The `CORESDK_*` settings that make an app accept `issuer`'s tokens, its keys served by `jwks`. */
export function issuerSettings(issuer: TestIssuer, jwks: JwksServer): Record<string, string> {
  return {
    CORESDK_JWT_ISSUER: issuer.issuer,
    CORESDK_JWT_AUDIENCE: issuer.audience,
    CORESDK_JWT_ALGORITHMS: issuer.alg,
    CORESDK_JWKS_URL: jwks.jwksUrl,
  }
}
