import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The bench package's folder: every child runs from here, so tsx finds this package's tsconfig. */
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Loaded before anything else in every child: it steadies the shape of Node's tick objects (see the file). */
export const STEADY_SHAPES = join(BENCH_DIR, 'src', 'steady-shapes.mjs')

const live = new Set<ChildProcess>()

/** The commands that run a server on one CPU and its load generator on another. */
export interface CpuPinning {
  server: string[]
  load: string[]
}

/**
 * With two CPUs or more and `taskset`: the server on CPU 1, the load generator on CPU 0, so that neither moves
 * between CPUs or takes the other's (each process, its threads included). Null when the machine cannot.
 */
export function cpuPinning(): CpuPinning | null {
  if (availableParallelism() < 2) return null
  const probe = spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' })
  if (probe.status !== 0) return null
  return { server: ['taskset', '-c', '1'], load: ['taskset', '-c', '0'] }
}

/** A message a worker sends to its parent, or the parent to a worker. */
export interface WorkerMessage {
  type: string
  id?: number
  [field: string]: unknown
}

/** A worker process spoken to over IPC. */
export interface Worker {
  readonly process: ChildProcess
  /** Sends a request and resolves the worker's reply with the same id (rejects when it answers `error` or dies). */
  request<T extends WorkerMessage>(message: WorkerMessage, timeoutMs?: number): Promise<T>
  /** Resolves the next message of this type (rejects when the worker dies first). */
  next<T extends WorkerMessage>(type: string, timeoutMs?: number): Promise<T>
  /** Lets every message through to a listener (for streams of events). */
  onMessage(listener: (message: WorkerMessage) => void): void
  /** Asks the worker to exit, then kills it if it has not within `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  /** Extra `node` flags (`--expose-gc`, `--cpu-prof`, …). */
  nodeArgs?: string[]
  /** Arguments for the worker script. */
  args?: string[]
  /** Extra environment variables. */
  env?: Record<string, string>
  /** How long to wait for the worker's `ready` message. @default 30000 */
  readyTimeoutMs?: number
  /** The bench folder the script lives in: another checkout's (the baseline build). @default this bench's folder */
  benchDir?: string
  /** A file the worker's standard output goes to, rather than the terminal (a file, not a pipe: nothing is lost). */
  stdoutFile?: string
  /** A command the worker's `node` runs under (`valgrind --tool=callgrind …`): the worker's pid is then its. */
  wrapper?: string[]
}

/**
 * Starts `src/<script>` in its own Node process (the bench's TypeScript through tsx, the workspace packages as built,
 * from their `dist`, as users load them: tsx's transform of the sources wraps every function in a naming helper) and waits
 * for its `ready` message. Every worker started here is killed by {@link killAllWorkers}.
 */
export async function startWorker(
  script: string,
  options: StartWorkerOptions = {},
): Promise<{ worker: Worker; ready: WorkerMessage }> {
  const benchDir = options.benchDir ?? BENCH_DIR
  const [command, ...wrapperArgs] = options.wrapper ?? [process.execPath]
  const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'w')
  const child = spawn(
    command!,
    [
      ...(options.wrapper ? [...wrapperArgs, process.execPath] : []),
      '--import',
      pathToFileURL(STEADY_SHAPES).href,
      '--import',
      'tsx',
      ...(options.nodeArgs ?? []),
      join(benchDir, 'src', script),
      ...(options.args ?? []),
    ],
    {
      cwd: benchDir,
      stdio: ['ignore', stdoutFd ?? 'inherit', 'inherit', 'ipc'],
      // The bench's own tsconfig for tsx (the Nest apps' decorators); the baseline copy's reaches its package sources.
      env: { ...process.env, TSX_TSCONFIG_PATH: join(benchDir, 'tsconfig.run.json'), ...options.env },
    },
  )
  // The child holds its own copy of the file's descriptor.
  if (stdoutFd !== undefined) closeSync(stdoutFd)
  live.add(child)
  let exited: string | null = null
  const waiters = new Set<(error: Error) => void>()
  child.once('exit', (code, signal) => {
    live.delete(child)
    exited = `${script} exited (${signal ?? code})`
    for (const fail of waiters) fail(new Error(exited))
    waiters.clear()
  })
  let nextId = 1
  const listeners = new Set<(message: WorkerMessage) => void>()
  child.on('message', (message) => {
    for (const listener of [...listeners]) listener(message as WorkerMessage)
  })

  const awaitMessage = <T extends WorkerMessage>(
    match: (message: WorkerMessage) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(exited))
      const done = (): void => {
        clearTimeout(timer)
        listeners.delete(listener)
        waiters.delete(fail)
      }
      const fail = (error: Error): void => {
        done()
        reject(error)
      }
      const listener = (message: WorkerMessage): void => {
        if (!match(message)) return
        done()
        if (message.type === 'error') reject(new Error(`${script}: ${String(message.message)}`))
        else resolve(message as T)
      }
      const timer = setTimeout(
        () => fail(new Error(`${script}: no ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      listeners.add(listener)
      waiters.add(fail)
    })

  const worker: Worker = {
    process: child,
    request(message, timeoutMs = 120_000) {
      const id = nextId++
      const reply = awaitMessage<never>((m) => m.id === id, timeoutMs, `reply to ${message.type}`)
      child.send({ ...message, id })
      return reply
    },
    next(type, timeoutMs = 120_000) {
      return awaitMessage(
        (m) => m.type === type || (m.type === 'error' && m.id === undefined),
        timeoutMs,
        type,
      )
    },
    onMessage(listener) {
      listeners.add(listener)
    },
    async stop(graceMs = 5000) {
      if (exited) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      // A child exiting on its own meanwhile closes the channel: the send then fails, which changes nothing here.
      if (child.connected) child.send({ type: 'exit' }, () => {})
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await gone
      clearTimeout(timer)
    },
  }
  try {
    const ready = await worker.next('ready', options.readyTimeoutMs ?? 30_000)
    return { worker, ready }
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
}

/** Kills every worker still running (used on exit, error and signals). */
export function killAllWorkers(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

/** How many workers are running. */
export function liveWorkerCount(): number {
  return live.size
}

type Handler = (
  message: WorkerMessage,
) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined

/**
 * The worker side: answers each request with its handler's result (same id), reports failures as `error`, exits
 * on `exit` or when the parent goes away, and announces itself with `ready`.
 */
export function serveParent(
  handlers: Record<string, Handler>,
  ready: Record<string, unknown> = {},
  onExit?: () => Promise<void>,
): void {
  if (!process.send) throw new Error('this script runs as a child of the bench')
  const send = (message: WorkerMessage): void => {
    if (process.connected) process.send!(message)
  }
  let exiting = false
  const exit = async (): Promise<void> => {
    if (exiting) return
    exiting = true
    try {
      await onExit?.()
    } finally {
      process.exit(0)
    }
  }
  process.on('disconnect', () => void exit())
  process.on('message', (raw) => {
    const message = raw as WorkerMessage
    if (message.type === 'exit') return void exit()
    const handler = handlers[message.type]
    if (!handler) return send({ type: 'error', id: message.id, message: `unknown request ${message.type}` })
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (result) => send({ type: 'reply', id: message.id, ...result }),
        (error: unknown) =>
          send({
            type: 'error',
            id: message.id,
            message: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      )
  })
  send({ type: 'ready', ...ready })
}
