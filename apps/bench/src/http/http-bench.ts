import type { Baseline } from '../baseline.ts'
import {
  type CpuPinning,
  type StartWorkerOptions,
  startWorker,
  type Worker,
  type WorkerMessage,
} from '../children.ts'
import type { Fixture } from '../fixture.ts'
import type { CpuProfile } from '../profile.ts'
import { median } from '../stats.ts'
import { rotate } from '../verify/verify-bench.ts'
import type { LoadResult } from './load-worker.ts'
import { FRAMEWORKS, type Framework, VARIANTS, type Variant, variantsFor } from './variants.ts'

/** How hard and how long each app is loaded. */
export interface HttpSettings {
  rounds: number
  /** Whole seconds (autocannon's unit). */
  durationSec: number
  /** Requests sent to each variant before it is measured. */
  warmupRequests: number
  connections: number
  frameworks: readonly Framework[]
  variants: readonly Variant[]
  /** The earlier commit the `coresdk-baseline` rows run (null: those rows are not measured). */
  baseline: Baseline | null
  /** Where the servers and the load generator run (null: wherever the OS puts them). */
  pinning: CpuPinning | null
}

/** One variant's figures: medians over the rounds, or why it was not measured. */
export interface HttpResult {
  framework: Framework
  variant: Variant
  /** Why there are no figures (`not available`, a failed check), or null. */
  unavailable: string | null
  rps: number
  p50: number
  p99: number
  /** Server CPU time (user + system) per request, in microseconds. */
  cpuUsPerRequest: number
  /** The part of it spent in the kernel (system time: reading and writing sockets), in microseconds. */
  cpuSystemUsPerRequest: number
  roundsRps: number[]
  /** Server CPU µs per request in each round, in round order. */
  roundsCpu: number[]
  /** Non-2xx answers, errors and timeouts over all rounds (should be 0). */
  failures: number
}

interface RunningVariant {
  variant: Variant
  worker: Worker
  port: number
}

/** Whether a variant answers 200 with the token and (except bare) 401 without it; why not, else null. */
export async function check(port: number, variant: Variant, token: string): Promise<string | null> {
  const url = `http://127.0.0.1:${port}/api/me`
  const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  const body = (await ok.json().catch(() => null)) as { sub?: string } | null
  if (ok.status !== 200 || body?.sub !== 'user-1') return `check failed: GET /api/me answered ${ok.status}`
  if (variant !== 'bare' && variant !== 'empty') {
    // The middleware must really be in the path: without a token the same route is refused.
    const refused = await fetch(url)
    await refused.arrayBuffer()
    if (refused.status !== 401) return `check failed: GET /api/me without a token answered ${refused.status}`
  }
  return null
}

/**
 * Starts one variant's server. The baseline rows run the baseline commit's own server worker (its CoreSDK on the
 * memory store), which speaks the same protocol; a baseline that is missing, or that has no such framework, answers
 * `ready` with why.
 */
export async function startVariant(
  framework: Framework,
  variant: Variant,
  baseline: Baseline | null,
  env: Record<string, string>,
  launch: Pick<StartWorkerOptions, 'wrapper' | 'readyTimeoutMs'> = {},
): Promise<{ worker: Worker; ready: WorkerMessage }> {
  const readyTimeoutMs = launch.readyTimeoutMs ?? 60_000
  if (variant !== 'coresdk-baseline')
    return startWorker('http/server-worker.ts', {
      args: [framework, variant],
      env,
      readyTimeoutMs,
      wrapper: launch.wrapper,
    })
  const absent = (reason: string) => ({
    worker: { stop: async () => {} } as Worker,
    ready: { type: 'ready', unavailable: reason } as WorkerMessage,
  })
  if (baseline === null) return absent('not measured (--no-baseline)')
  if (!baseline.ok) return absent(baseline.reason)
  if (!baseline.frameworks.includes(framework)) return absent(`not in the baseline commit ${baseline.ref}`)
  return startWorker('http/server-worker.ts', {
    args: [framework, 'coresdk-memory'],
    env,
    readyTimeoutMs,
    benchDir: baseline.benchDir,
    wrapper: launch.wrapper,
  })
}

/**
 * For each framework: starts its four variants (each in its own process), checks them, warms them up, then loads
 * them in alternating rounds from the load generator's process and takes the medians.
 */
export async function runHttpBench(
  settings: HttpSettings,
  fixture: Fixture,
  token: string,
  log: (line: string) => void,
): Promise<HttpResult[]> {
  const env = { BENCH_FIXTURE: JSON.stringify(fixture) }
  const pinning = settings.pinning
  const { worker: load } = await startWorker('http/load-worker.ts', { wrapper: pinning?.load })
  const results: HttpResult[] = []
  const headers = { authorization: `Bearer ${token}` }
  const run = (port: number, durationSec: number, amount = 0): Promise<LoadResult & WorkerMessage> =>
    load.request<LoadResult & WorkerMessage>(
      {
        type: 'run',
        url: `http://127.0.0.1:${port}/api/me`,
        connections: settings.connections,
        amount,
        durationSec,
        headers,
      },
      (durationSec + 60) * 1000,
    )
  try {
    for (const framework of settings.frameworks.filter((f) => FRAMEWORKS.includes(f))) {
      const variants = variantsFor(framework, settings.variants)
      const started = await Promise.allSettled(
        variants.map((variant) =>
          startVariant(framework, variant, settings.baseline, env, { wrapper: pinning?.server }),
        ),
      )
      const running: RunningVariant[] = []
      try {
        for (const [index, outcome] of started.entries()) {
          const variant = variants[index]!
          const base = {
            framework,
            variant,
            rps: Number.NaN,
            p50: Number.NaN,
            p99: Number.NaN,
            cpuUsPerRequest: Number.NaN,
            cpuSystemUsPerRequest: Number.NaN,
            roundsRps: [],
            roundsCpu: [],
            failures: 0,
          }
          if (outcome.status === 'rejected') {
            log(`  ${framework}/${variant}: ${String(outcome.reason).split('\n')[0]}`)
            results.push({ ...base, unavailable: 'not available (failed to start)' })
            continue
          }
          const { worker, ready } = outcome.value
          if (typeof ready.unavailable === 'string') {
            results.push({ ...base, unavailable: ready.unavailable })
            await worker.stop()
            continue
          }
          const port = Number(ready.port)
          const problem = await check(port, variant, token)
          if (problem) {
            log(`  ${framework}/${variant}: ${problem}`)
            results.push({ ...base, unavailable: problem })
            await worker.stop()
            continue
          }
          running.push({ variant, worker, port })
        }
        log(`  ${framework}: ${running.length} variants started and checked`)
        for (const { port } of running) await run(port, 0, settings.warmupRequests)
        const samples = new Map<Variant, Array<LoadResult & { cpuUs: number; systemUs: number }>>()
        for (let round = 0; round < settings.rounds; round++) {
          for (const { variant, worker, port } of rotate(running, round)) {
            await worker.request({ type: 'begin' })
            const result = await run(port, settings.durationSec)
            const cpu = await worker.request<{
              type: string
              cpuUserUs: number
              cpuSystemUs: number
              requests: number
            }>({ type: 'end' })
            const served = Math.max(1, cpu.requests)
            const cpuUs = (cpu.cpuUserUs + cpu.cpuSystemUs) / served
            const systemUs = cpu.cpuSystemUs / served
            samples.set(variant, [...(samples.get(variant) ?? []), { ...result, cpuUs, systemUs }])
          }
          log(
            `  ${framework} round ${round + 1}/${settings.rounds}: ${running
              .map(({ variant }) => `${variant} ${Math.round(samples.get(variant)!.at(-1)!.rps)} rps`)
              .join(', ')}`,
          )
        }
        for (const { variant } of running) {
          const s = samples.get(variant) ?? []
          results.push({
            framework,
            variant,
            unavailable: null,
            rps: median(s.map((x) => x.rps)),
            p50: median(s.map((x) => x.p50)),
            p99: median(s.map((x) => x.p99)),
            cpuUsPerRequest: median(s.map((x) => x.cpuUs)),
            cpuSystemUsPerRequest: median(s.map((x) => x.systemUs)),
            roundsRps: s.map((x) => x.rps),
            roundsCpu: s.map((x) => x.cpuUs),
            failures: s.reduce((sum, x) => sum + x.non2xx + x.errors + x.timeouts, 0),
          })
        }
      } finally {
        await Promise.all(running.map(({ worker }) => worker.stop()))
      }
    }
    const order = (r: HttpResult): number =>
      FRAMEWORKS.indexOf(r.framework) * 100 + VARIANTS.indexOf(r.variant)
    return results.sort((a, b) => order(a) - order(b))
  } finally {
    await load.stop()
  }
}

/** Function names whose inclusive time the HTTP profiles report. */
export const HTTP_PROFILE_FUNCTIONS = [
  'authenticate',
  '#authenticateBearer',
  '#extract',
  'verify in @coresdk/core',
  '#sessionForToken',
  '#touch',
  'withDeadline',
  'getByKey',
] as const

/**
 * Profiles one variant under load with V8's sampling profiler (started and stopped over the inspector in the server
 * process, so start-up is left out) and returns the raw profile.
 */
export async function profileHttpVariant(
  framework: Framework,
  variant: Variant,
  settings: Pick<HttpSettings, 'connections' | 'warmupRequests' | 'durationSec' | 'pinning'>,
  fixture: Fixture,
  token: string,
): Promise<{ profile: CpuProfile; operations: number }> {
  const env = { BENCH_FIXTURE: JSON.stringify(fixture) }
  const { worker: load } = await startWorker('http/load-worker.ts', { wrapper: settings.pinning?.load })
  const { worker: server, ready } = await startWorker('http/server-worker.ts', {
    args: [framework, variant],
    env,
    wrapper: settings.pinning?.server,
  })
  try {
    if (typeof ready.unavailable === 'string')
      throw new Error(`${framework}/${variant}: ${ready.unavailable}`)
    const run = (durationSec: number, amount = 0): Promise<unknown> =>
      load.request(
        {
          type: 'run',
          url: `http://127.0.0.1:${String(ready.port)}/api/me`,
          connections: settings.connections,
          durationSec,
          amount,
          headers: { authorization: `Bearer ${token}` },
        },
        (durationSec + 60) * 1000,
      )
    await run(0, settings.warmupRequests)
    await server.request({ type: 'begin' })
    await server.request({ type: 'profile-start' })
    await run(settings.durationSec)
    const { profile } = await server.request<{ type: string; profile: CpuProfile }>({
      type: 'profile-stop',
    })
    const { requests } = await server.request<{ type: string; requests: number }>({ type: 'end' })
    return { profile, operations: requests }
  } finally {
    await Promise.all([server.stop(), load.stop()])
  }
}
