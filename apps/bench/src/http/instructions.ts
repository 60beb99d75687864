import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Baseline } from '../baseline.ts'
import { startWorker, type Worker, type WorkerMessage } from '../children.ts'
import type { Fixture } from '../fixture.ts'
import { median } from '../stats.ts'
import { check, startVariant } from './http-bench.ts'
import type { LoadResult } from './load-worker.ts'
import { type Framework, type Variant, variantsFor } from './variants.ts'

/** How each server is measured under callgrind. */
export interface InstructionSettings {
  /** Requests sent before counting starts (the JIT settles under valgrind too). */
  warmupRequests: number
  /** Requests counted. */
  requests: number
  connections: number
  /** Servers measured at once: counts do not depend on what else runs. */
  parallel: number
  /**
   * Processes per variant, each started afresh: the figure is their median. Processes of one server differ with where
   * and when the JIT optimises, by about a percent once `steady-shapes.mjs` is loaded (by up to 40 % without it).
   */
  processes: number
  frameworks: readonly Framework[]
  variants: readonly Variant[]
  baseline: Baseline | null
}

/** One server's instructions per request, or why there is none. */
export interface InstructionResult {
  framework: Framework
  variant: Variant
  unavailable: string | null
  /**
   * Instructions the server's main thread executed per request counted: JavaScript, and the garbage collection done
   * there. The helper threads (the optimising compiler, concurrent marking) vary from run to run with when the JIT
   * happens to work, so they are reported apart (`allThreads`).
   */
  perRequest: number
  /** Instructions of every thread of the server per request. */
  allThreads: number
  requests: number
  /** The main-thread count per request of each process, in the order they ran (the median is `perRequest`). */
  processes: number[]
  /** Full (mark-compact) garbage collections inside the counted windows, over all processes. */
  fullGcs: number
  /** Requests served per second of the counted window under callgrind (the median over the processes). */
  requestsPerSecond: number
}

/**
 * One variant's figure from its processes' own: the medians of their counts. A process that failed makes the
 * variant unavailable (its reason kept): a median over the processes that happened to work would hide it.
 */
export function combineProcesses(runs: readonly InstructionResult[]): InstructionResult {
  const first = runs[0]
  if (first === undefined) throw new Error('no process to combine')
  const failed = runs.find((r) => r.unavailable !== null)
  if (failed) return { ...failed, processes: runs.map((r) => r.perRequest) }
  return {
    framework: first.framework,
    variant: first.variant,
    unavailable: null,
    perRequest: median(runs.map((r) => r.perRequest)),
    allThreads: median(runs.map((r) => r.allThreads)),
    requests: median(runs.map((r) => r.requests)),
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    processes: runs.map((r) => r.perRequest),
    fullGcs: runs.reduce((sum, r) => sum + r.fullGcs, 0),
  }
}

/**
 * The Redis and PostgreSQL stores' local cache `maxStaleness` under callgrind, in ms. A store re-reads a cached
 * session once per `maxStaleness` (1 s by default) whatever the load: at full speed that is once per 10,000 to 80,000
 * requests, but valgrind serves a few hundred per second, so the same clock would put a re-read (with its cold,
 * unoptimised code) in every few hundred requests and count it a hundred times over. At 10 minutes, no re-read
 * falls inside a counted window, as none would in most windows of as many requests at full speed: the rows count
 * what a warm request does. The re-reads are in the CPU times of the HTTP section, measured at full speed.
 */
export const CALLGRIND_STALENESS = 600_000

/** Why callgrind cannot run here, or null when it can. */
export function callgrindMissing(): string | null {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' })
    return null
  } catch {
    return 'valgrind is not installed (apt-get install -y valgrind)'
  }
}

/**
 * The totals of the newest dump callgrind wrote into `dir`, one file per thread (`callgrind.out.N-TT`; thread 1 is
 * the main thread): the main thread's, and all threads' together.
 */
function readDump(dir: string): { main: number; all: number } {
  const files = readdirSync(dir)
    .map((f) => /^callgrind\.out\.(\d+)-(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
  const last = Math.max(...files.map((m) => Number(m[1])))
  if (!Number.isFinite(last)) throw new Error('callgrind wrote no dump')
  let main = Number.NaN
  let all = 0
  for (const m of files.filter((f) => Number(f[1]) === last)) {
    // `summary:` can read 0 in a dump taken by callgrind_control; `totals:` holds the count.
    const totals = /^totals:\s*(\d+)/m.exec(readFileSync(join(dir, m[0]), 'utf8'))?.[1]
    if (totals === undefined) throw new Error('callgrind dump without totals')
    all += Number(totals)
    if (Number(m[2]) === 1) main = Number(totals)
  }
  return { main, all }
}

async function measure(
  framework: Framework,
  variant: Variant,
  settings: InstructionSettings,
  fixture: Fixture,
  token: string,
): Promise<InstructionResult> {
  const result = {
    framework,
    variant,
    unavailable: null,
    perRequest: Number.NaN,
    allThreads: Number.NaN,
    requests: 0,
    processes: [],
    fullGcs: 0,
    requestsPerSecond: Number.NaN,
  }
  const dir = mkdtempSync(join(tmpdir(), 'coresdk-callgrind-'))
  let server: Worker | undefined
  let load: Worker | undefined
  try {
    const started = await startVariant(
      framework,
      variant,
      settings.baseline,
      { BENCH_FIXTURE: JSON.stringify({ ...fixture, cacheStaleness: CALLGRIND_STALENESS }) },
      {
        // Instrumentation starts off: start-up and warm-up run at valgrind's fastest, uncounted.
        wrapper: [
          'valgrind',
          '-q',
          '--tool=callgrind',
          '--instr-atstart=no',
          '--separate-threads=yes',
          '--smc-check=all-non-file',
          `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
        ],
        readyTimeoutMs: 300_000,
      },
    )
    server = started.worker
    if (typeof started.ready.unavailable === 'string')
      return { ...result, unavailable: started.ready.unavailable }
    const port = Number(started.ready.port)
    const problem = await check(port, variant, token)
    if (problem) return { ...result, unavailable: problem }
    load = (await startWorker('http/load-worker.ts')).worker
    const run = (amount: number) =>
      load!.request<LoadResult & WorkerMessage>(
        {
          type: 'run',
          url: `http://127.0.0.1:${port}/api/me`,
          connections: settings.connections,
          amount,
          durationSec: 0,
          headers: { authorization: `Bearer ${token}` },
        },
        600_000,
      )
    await run(settings.warmupRequests)
    const pid = String(server.process.pid)
    const control = (...args: string[]) =>
      execFileSync('callgrind_control', [...args, pid], { stdio: 'ignore' })
    control('-i', 'on')
    await server.request({ type: 'begin' })
    const windowStart = performance.now()
    const loaded = await run(settings.requests)
    const windowMs = performance.now() - windowStart
    const { requests, fullGcs } = await server.request<{ type: string; requests: number; fullGcs: number }>({
      type: 'end',
    })
    control('-i', 'off')
    control('-d')
    if (loaded.non2xx + loaded.errors + loaded.timeouts > 0)
      return { ...result, unavailable: `${loaded.non2xx + loaded.errors + loaded.timeouts} failed requests` }
    const counted = readDump(dir)
    const served = Math.max(1, requests)
    return {
      ...result,
      perRequest: counted.main / served,
      allThreads: counted.all / served,
      requests,
      fullGcs,
      requestsPerSecond: requests / (windowMs / 1000),
    }
  } catch (error) {
    return { ...result, unavailable: `failed: ${String(error).split('\n')[0]}` }
  } finally {
    await Promise.all([server?.stop(), load?.stop()])
    if (!process.env.BENCH_KEEP_CALLGRIND) rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Counts the instructions each server executes per warm request under callgrind: a figure that other work on the
 * machine does not move, to set beside the CPU times (separate processes of one server differ by about a percent).
 */
export async function runInstructionBench(
  settings: InstructionSettings,
  fixture: Fixture,
  token: string,
  log: (line: string) => void,
): Promise<InstructionResult[]> {
  const processes = Math.max(1, settings.processes)
  const variants = settings.frameworks.flatMap((framework) =>
    variantsFor(framework, settings.variants).map((variant) => ({ framework, variant })),
  )
  // Round by round (every variant once, then again), so that the processes of one variant do not run side by side.
  const jobs = Array.from({ length: processes }, (_, round) =>
    variants.map((v, index) => ({ ...v, index, round })),
  ).flat()
  const runs: InstructionResult[][] = variants.map(() => [])
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const { framework, variant, index, round } = jobs[next++]!
      const result = await measure(framework, variant, settings, fixture, token)
      const of = processes > 1 ? ` (process ${round + 1} of ${processes})` : ''
      const gcs = result.fullGcs > 0 ? `, ${result.fullGcs} full GC in the window` : ''
      log(
        `  ${framework}/${variant}${of}: ${result.unavailable ?? `${Math.round(result.perRequest).toLocaleString('en-US')} instructions/req${gcs}`}`,
      )
      runs[index]!.push(result)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, settings.parallel) }, lane))
  return runs.map(combineProcesses)
}
