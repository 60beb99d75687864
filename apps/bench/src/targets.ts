import type { HttpResult } from './http/http-bench.ts'
import type { InstructionResult } from './http/instructions.ts'
import { FRAMEWORK_NAME, type Framework, USUAL_MIDDLEWARE, type Variant } from './http/variants.ts'
import type { SessionsReport } from './sessions/sessions-bench.ts'
import { formatNumber, formatRatio, pairedRatio } from './stats.ts'
import {
  timeRatio,
  VERIFY_ALGORITHMS,
  type VerifyAlgorithm,
  type VerifyResult,
} from './verify/verify-bench.ts'

/** What a missed target is profiled as: an HTTP variant under load, or a verification loop. */
export type ProfileSubject =
  | { kind: 'http'; framework: Framework; variant: Variant }
  | { kind: 'verify'; alg: VerifyAlgorithm }

/** One target of the issue, judged against the measurements. */
export interface TargetResult {
  id: string
  text: string
  /** The measured ratio (or value), compared with `limit`. */
  value: number
  limit: number
  /** `min`: the value must be at least the limit; `max`: at most. */
  kind: 'min' | 'max'
  /** null when a figure is missing. */
  met: boolean | null
  /** The figures behind the ratio, for the reader. */
  detail: string
  /** What to profile when the target is missed. */
  profile: ProfileSubject | null
  unit: 'ratio' | 'ms'
}

function judge(value: number, limit: number, kind: 'min' | 'max'): boolean | null {
  if (!Number.isFinite(value)) return null
  return kind === 'min' ? value >= limit : value <= limit
}

/** Requests per second of `a` over `b`: the median of the per-round ratios (NaN when either is missing). */
export function rpsRatio(a: HttpResult | undefined, b: HttpResult | undefined): number {
  if (!a || !b) return Number.NaN
  return pairedRatio(a.roundsRps, b.roundsRps)
}

/** Server CPU per request of `a` over `b`, paired by round the same way. */
export function cpuRatio(a: HttpResult | undefined, b: HttpResult | undefined): number {
  if (!a || !b) return Number.NaN
  return pairedRatio(a.roundsCpu, b.roundsCpu)
}

/** Evaluates every target of the issue against the results (a missing figure gives `met: null`). */
export function evaluateTargets(
  verify: VerifyResult[] | null,
  http: HttpResult[] | null,
  sessions: SessionsReport | null,
  instructions: InstructionResult[] | null = null,
): TargetResult[] {
  const targets: TargetResult[] = []
  if (instructions) targets.push(...instructionTargets(instructions))
  const row = (framework: Framework, variant: Variant): HttpResult | undefined =>
    http?.find((r) => r.framework === framework && r.variant === variant && r.unavailable === null)
  if (http) {
    const frameworks = [...new Set(http.map((r) => r.framework))]
    const warm: Array<[Framework, Variant]> = frameworks.flatMap((framework) =>
      http.some((r) => r.framework === framework && r.variant === 'coresdk-per-route')
        ? [
            [framework, 'coresdk-memory'],
            [framework, 'coresdk-per-route'],
          ]
        : [[framework, 'coresdk-memory']],
    )
    for (const [framework, subject] of warm) {
      const bare = row(framework, 'bare')
      const core = row(framework, subject)
      const empty = row(framework, 'empty')
      const form =
        subject === 'coresdk-per-route' ? ', authenticating in the route handler (withCoreSdk)' : ''
      // Server CPU per request, which the other load on the shared cores moves far less than req/s does.
      const value = cpuRatio(core, bare)
      const reference = empty
        ? `; an empty async middleware alone: ${formatRatio(cpuRatio(empty, bare))}`
        : ''
      targets.push({
        id: `warm-vs-bare-${framework}${form ? '-per-route' : ''}`,
        text: `Warm path RS256, ${FRAMEWORK_NAME[framework]}${form}: CoreSDK server CPU/req ≤ 1.10 × bare`,
        value,
        limit: 1.1,
        kind: 'max',
        met: judge(value, 1.1, 'max'),
        detail: `${formatNumber(core?.cpuUsPerRequest ?? Number.NaN, 1)} vs ${formatNumber(bare?.cpuUsPerRequest ?? Number.NaN, 1)} µs/req (medians); req/s ${formatRatio(rpsRatio(core, bare))}${reference}`,
        profile: { kind: 'http', framework, variant: subject },
        unit: 'ratio',
      })
    }
    for (const framework of frameworks) {
      const before = row(framework, 'coresdk-baseline')
      // Only where the baseline ran: a framework the earlier commit did not have has nothing to compare with.
      if (!before) continue
      const core = row(framework, 'coresdk-memory')
      const value = cpuRatio(core, before)
      targets.push({
        id: `warm-vs-baseline-${framework}`,
        text: `Warm path RS256, ${FRAMEWORK_NAME[framework]}: server CPU/req ≤ 1.05 × the baseline commit (before the one pipeline)`,
        value,
        limit: 1.05,
        kind: 'max',
        met: judge(value, 1.05, 'max'),
        detail: `${formatNumber(core?.cpuUsPerRequest ?? Number.NaN, 1)} vs ${formatNumber(before.cpuUsPerRequest, 1)} µs/req (medians); req/s ${formatRatio(rpsRatio(core, before))}`,
        profile: { kind: 'http', framework, variant: 'coresdk-memory' },
        unit: 'ratio',
      })
    }
    for (const framework of frameworks) {
      const traced = row(framework, 'coresdk-traced')
      const otel = row(framework, 'coresdk-otel')
      const noSdk = row(framework, 'coresdk-otel-nosdk')
      const memory = row(framework, 'coresdk-memory')
      if (!traced && !otel && !noSdk) continue
      const withSdk = cpuRatio(otel, traced)
      targets.push({
        id: `telemetry-sdk-${framework}`,
        text: `Telemetry on, OpenTelemetry SDK installed and sampling, ${FRAMEWORK_NAME[framework]}: server CPU/req ≤ 1.03 × telemetry off`,
        value: withSdk,
        limit: 1.03,
        kind: 'max',
        met: judge(withSdk, 1.03, 'max'),
        detail: `${formatNumber(otel?.cpuUsPerRequest ?? Number.NaN, 1)} vs ${formatNumber(traced?.cpuUsPerRequest ?? Number.NaN, 1)} µs/req (both with the SDK and a span per request)`,
        profile: { kind: 'http', framework, variant: 'coresdk-otel' },
        unit: 'ratio',
      })
      const without = cpuRatio(noSdk, memory)
      targets.push({
        id: `telemetry-nosdk-${framework}`,
        text: `Telemetry on, no OpenTelemetry SDK installed, ${FRAMEWORK_NAME[framework]}: server CPU/req ≤ 1.02 × telemetry off (nothing measurable)`,
        value: without,
        limit: 1.02,
        kind: 'max',
        met: judge(without, 1.02, 'max'),
        detail: `${formatNumber(noSdk?.cpuUsPerRequest ?? Number.NaN, 1)} vs ${formatNumber(memory?.cpuUsPerRequest ?? Number.NaN, 1)} µs/req`,
        profile: { kind: 'http', framework, variant: 'coresdk-otel-nosdk' },
        unit: 'ratio',
      })
    }
    for (const framework of frameworks) {
      const usual = row(framework, 'usual')
      const core = row(framework, 'coresdk-memory')
      const value = rpsRatio(core, usual)
      targets.push({
        id: `warm-vs-usual-${framework}`,
        text: `Warm path RS256, ${FRAMEWORK_NAME[framework]}: CoreSDK rps ≥ 3 × ${USUAL_MIDDLEWARE[framework]}`,
        value,
        limit: 3,
        kind: 'min',
        met: judge(value, 3, 'min'),
        detail: `${formatNumber(core?.rps ?? Number.NaN)} vs ${formatNumber(usual?.rps ?? Number.NaN)} rps`,
        profile: { kind: 'http', framework, variant: 'coresdk-memory' },
        unit: 'ratio',
      })
    }
    for (const framework of frameworks) {
      const memory = row(framework, 'coresdk-memory')
      const postgres = row(framework, 'coresdk-postgres')
      // Server CPU per request, which the shared cores' other load moves less than req/s (≈ 1 / 0.95 × memory).
      const value = cpuRatio(postgres, memory)
      targets.push({
        id: `postgres-vs-memory-${framework}`,
        text: `PostgreSQL store, local cache warm, ${FRAMEWORK_NAME[framework]}: server CPU/req ≤ 1.05 × memory store`,
        value,
        limit: 1.05,
        kind: 'max',
        met: judge(value, 1.05, 'max'),
        detail: `${formatNumber(postgres?.cpuUsPerRequest ?? Number.NaN, 0)} vs ${formatNumber(memory?.cpuUsPerRequest ?? Number.NaN, 0)} µs/req; ${formatNumber(postgres?.rps ?? Number.NaN)} vs ${formatNumber(memory?.rps ?? Number.NaN)} rps (${formatRatio(rpsRatio(postgres, memory))})`,
        profile: { kind: 'http', framework, variant: 'coresdk-postgres' },
        unit: 'ratio',
      })
    }
    for (const framework of frameworks) {
      const memory = row(framework, 'coresdk-memory')
      const redis = row(framework, 'coresdk-redis')
      const value = cpuRatio(redis, memory)
      targets.push({
        id: `redis-vs-memory-${framework}`,
        text: `Redis store, local cache warm, ${FRAMEWORK_NAME[framework]}: server CPU/req ≤ 1.03 × memory store`,
        value,
        limit: 1.03,
        kind: 'max',
        met: judge(value, 1.03, 'max'),
        detail: `${formatNumber(redis?.cpuUsPerRequest ?? Number.NaN, 1)} vs ${formatNumber(memory?.cpuUsPerRequest ?? Number.NaN, 1)} µs/req; ${formatNumber(redis?.rps ?? Number.NaN)} vs ${formatNumber(memory?.rps ?? Number.NaN)} rps (${formatRatio(rpsRatio(redis, memory))})`,
        profile: { kind: 'http', framework, variant: 'coresdk-redis' },
        unit: 'ratio',
      })
    }
  }
  if (verify) {
    for (const alg of VERIFY_ALGORITHMS) {
      const cold = verify.find((r) => r.alg === alg && r.competitor === 'coresdk-cold')
      const jose = verify.find((r) => r.alg === alg && r.competitor === 'jose')
      const value = timeRatio(cold, jose)
      targets.push({
        id: `cold-verify-${alg}`,
        text: `Cold verification ${alg}: CoreSDK ≤ 1.15 × jose jwtVerify (time per token)`,
        value,
        limit: 1.15,
        kind: 'max',
        met: judge(value, 1.15, 'max'),
        detail: `${formatNumber((cold?.nsPerOp ?? Number.NaN) / 1000, 1)} vs ${formatNumber((jose?.nsPerOp ?? Number.NaN) / 1000, 1)} µs (medians); ratio the median of the rounds' ratios`,
        profile: { kind: 'verify', alg },
        unit: 'ratio',
      })
    }
  }
  for (const p of sessions?.propagation ?? []) {
    const value = p.unavailable === null ? p.listenerP99 : Number.NaN
    const name = p.store === 'redis' ? 'Redis' : 'PostgreSQL database'
    targets.push({
      id: p.store === 'redis' ? 'revocation-propagation' : `revocation-propagation-${p.store}`,
      text: `Revocation propagation between two processes on one ${name}: p99 ≤ 10 ms`,
      value,
      limit: 10,
      kind: 'max',
      met: judge(value, 10, 'max') === null ? null : judge(value, 10, 'max') && p.missed === 0,
      detail:
        p.unavailable === null
          ? `listener p99 ${formatNumber(p.listenerP99, 2)} ms, refusal p99 ${formatNumber(p.refusalP99, 2)} ms over ${p.count}${p.missed ? `, ${p.missed} missed` : ''}`
          : p.unavailable,
      profile: null,
      unit: 'ms',
    })
  }
  if (sessions) {
    const cap = sessions.memoryCap
    const ratio = 'unavailable' in cap ? Number.NaN : cap.ratio
    targets.push({
      id: 'memory-create-at-cap',
      text: 'MemorySessionStore create at its cap: ≤ 2 × the CPU time below its cap',
      value: ratio,
      limit: 2,
      kind: 'max',
      met: judge(ratio, 2, 'max'),
      detail:
        'unavailable' in cap
          ? cap.unavailable
          : `${formatNumber(cap.atCapCpuNs / 1000, 2)} vs ${formatNumber(cap.belowCapCpuNs / 1000, 2)} µs CPU per create (wall-clock ${formatRatio(cap.wallRatio)}), ${formatNumber(cap.capacity)} records held`,
      profile: null,
      unit: 'ratio',
    })
  }
  return targets
}

/**
 * The same warm-path limits judged on instructions per request (callgrind), which the other load on the machine does
 * not move: beside CoreSDK ÷ bare, ÷ the baseline commit, and the telemetry ratios.
 */
export function instructionTargets(results: InstructionResult[]): TargetResult[] {
  const targets: TargetResult[] = []
  const of = (framework: Framework, variant: Variant): InstructionResult | undefined =>
    results.find((r) => r.framework === framework && r.variant === variant && r.unavailable === null)
  const pairs: Array<[Variant, Variant, number, string, string]> = [
    ['coresdk-memory', 'bare', 1.1, 'bare', 'warm-vs-bare'],
    ['coresdk-per-route', 'bare', 1.1, 'bare', 'warm-per-route-vs-bare'],
    [
      'coresdk-memory',
      'coresdk-baseline',
      1.05,
      'the baseline commit (before the one pipeline)',
      'warm-vs-baseline',
    ],
    [
      'coresdk-otel',
      'coresdk-traced',
      1.03,
      'telemetry off, both with the OpenTelemetry SDK',
      'telemetry-sdk',
    ],
    ['coresdk-otel-nosdk', 'coresdk-memory', 1.02, 'telemetry off, no OpenTelemetry SDK', 'telemetry-nosdk'],
    [
      'coresdk-redis',
      'coresdk-memory',
      1.03,
      'the memory store (Redis, local cache warm)',
      'redis-vs-memory',
    ],
    [
      'coresdk-postgres',
      'coresdk-memory',
      1.05,
      'the memory store (PostgreSQL, local cache warm)',
      'postgres-vs-memory',
    ],
  ]
  for (const framework of [...new Set(results.map((r) => r.framework))]) {
    for (const [subject, reference, limit, name, id] of pairs) {
      // Only pairs this framework ran (a variant that ran and failed still gets its n/a).
      const ran = (variant: Variant): boolean =>
        results.some((r) => r.framework === framework && r.variant === variant)
      if (!ran(subject) || !ran(reference)) continue
      const a = of(framework, subject)
      const b = of(framework, reference)
      const value = (a?.perRequest ?? Number.NaN) / (b?.perRequest ?? Number.NaN)
      targets.push({
        id: `instructions-${id}-${framework}`,
        text: `${FRAMEWORK_NAME[framework]}, instructions per request (callgrind): ${subject} ≤ ${limit.toFixed(2)} × ${name}`,
        value,
        limit,
        kind: 'max',
        met: judge(value, limit, 'max'),
        detail: `${formatNumber(a?.perRequest ?? Number.NaN)} vs ${formatNumber(b?.perRequest ?? Number.NaN)} instructions/req`,
        profile: null,
        unit: 'ratio',
      })
    }
  }
  return targets
}

/** `met (1.02×)`, `MISSED by 0.07 (0.83× vs ≥ 0.90×)`, or `n/a`. */
export function verdict(target: TargetResult): string {
  const show = (v: number): string => (target.unit === 'ms' ? `${formatNumber(v, 2)} ms` : formatRatio(v))
  if (target.met === null) return 'n/a'
  const bound = `${target.kind === 'min' ? '≥' : '≤'} ${show(target.limit)}`
  if (target.met) return `met (${show(target.value)}, ${bound})`
  const gap = Math.abs(target.value - target.limit)
  const relative = target.kind === 'min' ? 1 - target.value / target.limit : target.value / target.limit - 1
  return `MISSED by ${target.unit === 'ms' ? `${formatNumber(gap, 2)} ms` : gap.toFixed(2)} (${show(target.value)} vs ${bound}, ${(relative * 100).toFixed(0)} % short)`
}
