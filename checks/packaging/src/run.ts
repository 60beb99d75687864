import { spawn } from 'node:child_process'

/** What a finished command printed, and how it ended. */
export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  /** Milliseconds from start to exit. */
  elapsed: number
}

/** Runs a command to its end (or `timeout`, then kills it) and collects its output; never rejects on a failure. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<RunResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 120_000)
    child.on('error', (error) => {
      stderr += String(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, elapsed: performance.now() - started })
    })
  })
}
