import type { HttpResult, HttpSettings } from './http/http-bench.ts'
import { CALLGRIND_STALENESS, type InstructionResult, type InstructionSettings } from './http/instructions.ts'
import { FRAMEWORK_NAME, USUAL_MIDDLEWARE, variantName } from './http/variants.ts'
import type { MachineInfo } from './machine.ts'
import type { ProfileSummary } from './profile.ts'
import type { SessionSettings, SessionsReport } from './sessions/sessions-bench.ts'
import { formatBytes, formatNumber, formatRatio, table } from './stats.ts'
import { cpuRatio, rpsRatio, type TargetResult, verdict } from './targets.ts'
import {
  timeRatio,
  VERIFY_ALGORITHMS,
  type VerifyResult,
  type VerifySettings,
} from './verify/verify-bench.ts'

/** A profile taken because a target was missed. */
export interface MissProfile {
  targetIds: string[]
  subject: string
  summary: ProfileSummary
  /** The same measurement without CoreSDK (or with the faster store), profiled the same way, for the difference. */
  baseline: { subject: string; summary: ProfileSummary } | null
}

/** Everything one run produced. */
export interface BenchReport {
  date: string
  mode: 'quick' | 'full'
  machine: MachineInfo
  versions: Record<string, string>
  settings: {
    verify: VerifySettings
    http: HttpSettings
    sessions: SessionSettings
    instructions?: InstructionSettings
  }
  verify: VerifyResult[] | null
  http: HttpResult[] | null
  instructions?: InstructionResult[] | null
  sessions: SessionsReport | null
  targets: TargetResult[]
  profiles: MissProfile[]
  durationSec: number
}

const COMPETITOR_NAME: Record<string, string> = {
  'coresdk-cold': 'CoreSDK `authorize()`, cold (verify cache off)',
  'coresdk-warm': 'CoreSDK `authorize()`, warm (token seen before)',
  jose: 'jose `jwtVerify` (same key and options)',
  node: 'Node `crypto.verify` / HMAC (the floor)',
}

/** The machine section. */
export function machineSection(report: Pick<BenchReport, 'machine' | 'versions'>): string {
  const m = report.machine
  const lines = [
    `- CPU: ${m.cpuModel} × ${m.cpuCount}; memory ${m.memoryGiB.toFixed(1)} GiB; ${m.platform}`,
    `- Node.js ${m.node}; Redis ${m.redis ?? 'not reachable'}; PostgreSQL ${m.postgres ?? 'not reachable'}`,
    `- Load average when the run began: ${m.loadAverage.toFixed(2)} (anything above 0 is other work competing for the same ${m.cpuCount} cores)`,
    `- Packages: ${Object.entries(report.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}; CoreSDK's packages as built (\`pnpm build\`, their \`dist\`), as an app loads them`,
  ]
  return lines.join('\n')
}

/** The targets table. */
export function targetsSection(targets: TargetResult[]): string {
  return table(
    ['Target', 'Measured', 'Verdict'],
    targets.map((t) => [t.text, t.detail, verdict(t)]),
  )
}

/** The verification tables, one row per algorithm and competitor. */
export function verifySection(results: VerifyResult[]): string {
  const rows: string[][] = []
  for (const alg of VERIFY_ALGORITHMS) {
    const jose = results.find((r) => r.alg === alg && r.competitor === 'jose')
    const node = results.find((r) => r.alg === alg && r.competitor === 'node')
    for (const r of results.filter((x) => x.alg === alg)) {
      rows.push([
        `${alg}: ${COMPETITOR_NAME[r.competitor] ?? r.competitor}`,
        formatNumber(r.opsPerSec),
        formatNumber(r.nsPerOp),
        formatRatio(timeRatio(r, jose)),
        formatRatio(timeRatio(r, node)),
      ])
    }
  }
  return table(['Algorithm: competitor', 'ops/s', 'ns/op', 'time × jose', 'time × floor'], rows)
}

/** The HTTP tables, one per framework. */
export function httpSection(results: HttpResult[]): string {
  const parts: string[] = []
  for (const framework of [...new Set(results.map((r) => r.framework))]) {
    const rows = results.filter((r) => r.framework === framework)
    const bare = rows.find((r) => r.variant === 'bare' && r.unavailable === null)
    const usual = rows.find((r) => r.variant === 'usual' && r.unavailable === null)
    parts.push(`### ${FRAMEWORK_NAME[framework]}\n`)
    parts.push(
      table(
        [
          'Variant',
          'req/s',
          'p50 ms',
          'p99 ms',
          'server CPU µs/req',
          'of it in the kernel',
          'req/s × bare',
          'CPU/req × bare',
          `req/s × ${USUAL_MIDDLEWARE[framework]}`,
        ],
        rows.map((r) =>
          r.unavailable !== null
            ? [variantName(framework, r.variant), `n/a (${r.unavailable})`, '', '', '', '', '', '', '']
            : [
                variantName(framework, r.variant) +
                  (r.failures > 0 ? ` (${r.failures} failed requests)` : ''),
                formatNumber(r.rps),
                formatNumber(r.p50, 1),
                formatNumber(r.p99, 1),
                formatNumber(r.cpuUsPerRequest, 1),
                formatNumber(r.cpuSystemUsPerRequest, 1),
                formatRatio(rpsRatio(r, bare)),
                formatRatio(cpuRatio(r, bare)),
                formatRatio(rpsRatio(r, usual)),
              ],
        ),
      ),
    )
    parts.push('')
  }
  return parts.join('\n')
}

const STORE_NAME: Record<string, string> = { redis: 'Redis', postgres: 'PostgreSQL' }

/** The lowest and highest process of a variant against its median (`−2.1 % … +3.4 %`), and any full GC counted. */
function spread(r: InstructionResult): string {
  const gcs = r.fullGcs > 0 ? `; ${r.fullGcs} full GC` : ''
  if (r.processes.length < 2) return `one process${gcs}`
  const percent = (value: number): string => {
    const p = (value / r.perRequest - 1) * 100
    return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)} %`
  }
  return `${percent(Math.min(...r.processes))} … ${percent(Math.max(...r.processes))}${gcs}`
}

/** Instructions per request per framework and variant, with the ratio to bare. */
export function instructionsSection(results: InstructionResult[]): string {
  const out: string[] = []
  for (const framework of [...new Set(results.map((r) => r.framework))]) {
    const rows = results.filter((r) => r.framework === framework)
    const bare = rows.find((r) => r.variant === 'bare' && r.unavailable === null)
    out.push(`### ${FRAMEWORK_NAME[framework]}\n`)
    out.push(
      table(
        [
          'Variant',
          'instructions/req, main thread',
          '× bare',
          'spread of the processes',
          'all threads',
          '× bare',
          'req/s under valgrind',
        ],
        rows.map((r) =>
          r.unavailable !== null
            ? [variantName(framework, r.variant), `n/a (${r.unavailable})`, '', '', '', '', '']
            : [
                variantName(framework, r.variant),
                formatNumber(r.perRequest),
                formatRatio(r.perRequest / (bare?.perRequest ?? Number.NaN)),
                spread(r),
                formatNumber(r.allThreads),
                formatRatio(r.allThreads / (bare?.allThreads ?? Number.NaN)),
                formatNumber(r.requestsPerSecond),
              ],
        ),
      ),
    )
    out.push('')
  }
  return out.join('\n').trimEnd()
}

/** The sessions tables: operations, propagation, memory. */
export function sessionsSection(report: SessionsReport): string {
  const ops = table(
    ['Store: operation', 'ops/s (concurrent)', 'p50 ms (one at a time)', 'p99 ms'],
    report.ops.map((r) =>
      r.unavailable !== null
        ? [`${r.store}: ${r.op}`, `n/a (${r.unavailable})`, '', '']
        : [`${r.store}: ${r.op}`, formatNumber(r.opsPerSec), formatNumber(r.p50, 3), formatNumber(r.p99, 3)],
    ),
  )
  const rows: string[][] = []
  const notes: string[] = []
  for (const p of report.propagation) {
    const name = STORE_NAME[p.store]
    if (p.unavailable !== null) {
      rows.push([`${name}: n/a (${p.unavailable})`, '', ''])
      continue
    }
    rows.push(
      [
        `${name}: B’s \`onRevocation\` listener fires`,
        formatNumber(p.listenerP50, 2),
        formatNumber(p.listenerP99, 2),
      ],
      [
        `${name}: B’s \`authenticate\` refuses the token`,
        formatNumber(p.refusalP50, 2),
        formatNumber(p.refusalP99, 2),
      ],
    )
    notes.push(
      `${name}: ${p.count} revocations measured (after 10 for warm-up)${p.missed > 0 ? `; ${p.missed} were not seen within 2 s` : ''}.`,
    )
  }
  const propagation = `${table(['Revocation on A seen by B', 'p50 ms', 'p99 ms'], rows)}\n\n${notes.join(' ')}`
  const memory =
    'unavailable' in report.memory
      ? `Memory: n/a (${report.memory.unavailable})`
      : `Memory store: ${formatBytes(report.memory.bytesPerSession * 100_000)} of heap per 100,000 sessions ` +
        `(${formatNumber(report.memory.bytesPerSession)} bytes per session; ${formatNumber(report.memory.count)} sessions measured, ` +
        'heap used after GC before and after creating them).'
  const cap = report.memoryCap
  const atCap =
    'unavailable' in cap
      ? `MemorySessionStore at its cap: n/a (${cap.unavailable})`
      : table(
          [
            `MemorySessionStore.create, ${formatNumber(cap.capacity)} records held`,
            'µs CPU per create',
            'µs wall-clock',
            'creates/s',
          ],
          [
            ['below its cap', cap.belowCapCpuNs, cap.belowCapNs] as const,
            ['at its cap (each create evicts one)', cap.atCapCpuNs, cap.atCapNs] as const,
          ].map(([name, cpu, wall]) => [
            name,
            formatNumber(cpu / 1000, 2),
            formatNumber(wall / 1000, 2),
            formatNumber(1e9 / wall),
          ]),
        ) +
        `\n\nAt its cap / below it: ${formatRatio(cap.ratio)} in CPU time, ${formatRatio(cap.wallRatio)} wall-clock ` +
        `(medians of the per-round ratios, ${formatNumber(cap.count)} creates per round and case).`
  return [ops, '', propagation, '', memory, '', atCap].join('\n')
}

/** One sentence on where a profile's time went: CoreSDK's share, and its costliest functions. */
export function readProfile(s: ProfileSummary): string {
  const ours = s.areas.filter((a) => a.area.startsWith('@coresdk/'))
  const share = ours.reduce((sum, a) => sum + a.share, 0)
  const top = s.top.filter((f) => f.area.startsWith('@coresdk/')).slice(0, 3)
  const biggest = s.inclusive.filter((i) => i.ms > 0).sort((a, b) => b.ms - a.ms)[0]
  return (
    `Busy CPU in the profile: ${formatNumber(s.busyMs)} ms. CoreSDK's own code (self time in @coresdk/*) is ` +
    `${(share * 100).toFixed(1)} % of it` +
    (top.length > 0
      ? `; its costliest functions: ${top.map((f) => `\`${f.name}\` (${f.where}, ${(f.selfShare * 100).toFixed(1)} %)`).join(', ')}`
      : '') +
    (biggest
      ? `. The largest inclusive figure is \`${biggest.name}\` at ${(biggest.share * 100).toFixed(1)} %.`
      : '.') +
    ` Outside CoreSDK the time goes to: ${s.areas
      .filter((a) => !a.area.startsWith('@coresdk/'))
      .slice(0, 3)
      .map((a) => `${a.area} ${(a.share * 100).toFixed(1)} %`)
      .join(', ')}.`
  )
}

/** CPU per operation by area, the baseline beside the subject: where the extra microseconds go. */
export function compareSection(
  baseline: { subject: string; summary: ProfileSummary },
  subject: { subject: string; summary: ProfileSummary },
): string {
  const areas = [...new Set([...subject.summary.areas, ...baseline.summary.areas].map((a) => a.area))]
  const per = (summary: ProfileSummary, area: string): number =>
    summary.areas.find((a) => a.area === area)?.usPerOp ?? 0
  const rows = areas
    .map((area) => ({ area, base: per(baseline.summary, area), mine: per(subject.summary, area) }))
    .sort((a, b) => b.mine - b.base - (a.mine - a.base))
  const total = (summary: ProfileSummary): number => summary.areas.reduce((sum, a) => sum + a.usPerOp, 0)
  const base = total(baseline.summary)
  const mine = total(subject.summary)
  const sign = (v: number): string => `${v >= 0 ? '+' : ''}${formatNumber(v, 1)}`
  return (
    `CPU per operation, ${baseline.subject} (${formatNumber(baseline.summary.operations)} operations profiled) against ` +
    `${subject.subject} (${formatNumber(subject.summary.operations)}): ${formatNumber(base, 1)} µs against ${formatNumber(mine, 1)} µs ` +
    `(${sign(mine - base)} µs, ${formatRatio(mine / base)}).\n\n` +
    table(
      ['Area', `${baseline.subject} µs/op`, `${subject.subject} µs/op`, 'difference µs/op'],
      rows
        .filter((r) => Math.abs(r.mine - r.base) >= 0.05)
        .slice(0, 12)
        .map((r) => [r.area, formatNumber(r.base, 1), formatNumber(r.mine, 1), sign(r.mine - r.base)]),
    )
  )
}

/**
 * Known costs, named when the profile shows them (so the text goes away once they are fixed): each a sentence with
 * the measured share of busy CPU.
 */
export function profileHints(s: ProfileSummary): string[] {
  const pct = (share: number): string => `${(share * 100).toFixed(1)} %`
  const inclusive = (name: string): number => s.inclusive.find((i) => i.name === name)?.share ?? 0
  const self = (name: string, area: string): number =>
    s.top.filter((f) => f.name === name && f.area === area).reduce((sum, f) => sum + f.selfShare, 0)
  const hints: string[] = []
  const digest = inclusive('digest in Node.js internals')
  if (digest >= 0.05) {
    hints.push(
      `CoreSDK hashes the whole token (SHA-256 through Web Crypto, \`sessionKey()\` in verify-token.ts) on every cold ` +
        `verification of a token without \`sid\` or \`jti\`, even in \`authorize()\`, which never uses the key: the digest ` +
        `takes ${pct(digest)} of busy CPU, against ${pct(inclusive('jwtVerify'))} for jose's whole \`jwtVerify\` (synchronous part).`,
    )
  }
  const deadline = inclusive('withDeadline')
  if (deadline >= 0.01) {
    hints.push(
      `Store calls that waited on a promise (\`withDeadline\`: a cache miss, a write, a touch): ${pct(deadline)}.`,
    )
  }
  const lookup = self('get', '@coresdk/core')
  if (lookup >= 0.01) {
    hints.push(
      `Lookups in core's bounded maps (\`BoundedMap.get\`: the verify cache, the memory store, the revocation memory, ` +
        `the stores' local caches): ${pct(lookup)}.`,
    )
  }
  return hints
}

/** A missed target's profile, as a short table of areas and functions. */
export function profileSection(profile: MissProfile): string {
  const s = profile.summary
  const areas = table(
    ['Area', 'self ms', 'share of busy CPU'],
    s.areas.slice(0, 10).map((a) => [a.area, formatNumber(a.selfMs), `${(a.share * 100).toFixed(1)} %`]),
  )
  const functions = table(
    ['Function (self time)', 'where', 'self ms', 'share'],
    s.top.map((f) => [
      f.name,
      f.where || f.area,
      formatNumber(f.selfMs, 1),
      `${(f.selfShare * 100).toFixed(1)} %`,
    ]),
  )
  const inclusive = s.inclusive.filter((i) => i.ms > 0)
  const inclusiveTable =
    inclusive.length === 0
      ? ''
      : `\n\n${table(
          ['Inclusive (function and what it calls)', 'ms', 'share of busy CPU'],
          inclusive.map((i) => [i.name, formatNumber(i.ms, 1), `${(i.share * 100).toFixed(1)} %`]),
        )}`
  const hints = profileHints(s)
  const why =
    hints.length > 0 ? `\n\nWhat the profile points at:\n\n${hints.map((h) => `- ${h}`).join('\n')}` : ''
  const comparison = profile.baseline
    ? `\n\n${compareSection(profile.baseline, { subject: profile.subject, summary: s })}`
    : ''
  return `#### ${profile.subject} (for: ${profile.targetIds.join(', ')})\n\n${readProfile(s)}${why}${comparison}\n\n${areas}\n\n${functions}${inclusiveTable}`
}

/** The whole report as Markdown (what `docs/benchmarks.md` holds). */
export function renderMarkdown(report: BenchReport): string {
  const s = report.settings
  const out: string[] = []
  out.push('# Benchmarks')
  out.push('')
  out.push(
    `Written by \`pnpm bench\` (${report.mode} run, ${report.date}, ${Math.round(report.durationSec)} s). ` +
      'Re-run it to refresh this page: `pnpm bench` (full, writes this file) or `pnpm bench --quick` (under two minutes; add `--write` to write this file).',
  )
  out.push('')
  out.push('## Machine')
  out.push('')
  out.push(machineSection(report))
  out.push('')
  out.push('## Targets')
  out.push('')
  out.push(targetsSection(report.targets))
  out.push('')
  out.push(
    'How to read these: the load generator and the server share the machine’s two cores, so requests per second move ' +
      'with anything else running (see the load average above; rounds of one variant can differ by tens of percent). ' +
      'The server’s CPU time per request depends on that less: where the two disagree, trust the CPU column ' +
      '(on a CPU-bound server, req/s × bare ≈ 1 / (CPU/req × bare)). It still moves by up to about 15 % from round ' +
      'to round when the machine’s own speed varies (a virtual machine’s does): a ratio within that of its limit is ' +
      'not settled by one run. The instruction counts (section 4) do not depend on the machine’s speed. The empty-middleware ' +
      'row shows what any middleware costs in each framework; on Hono, the per-route row (`withCoreSdk`, no ' +
      'middleware) shows CoreSDK without that cost. The kernel column is the part of the server’s CPU spent in ' +
      'system calls (reading and writing sockets), which CoreSDK makes none of on the warm path.',
  )
  out.push('')
  if (report.verify) {
    out.push('## 1. Token verification')
    out.push('')
    out.push(
      `A tight loop, one verification after another (each awaited), ${s.verify.rounds} rounds of ${s.verify.durationMs} ms per ` +
        `competitor after a ${s.verify.warmupMs} ms warm-up, competitors alternating within each round; ops/s and ns/op are the median round, ratios the median of the rounds' own ratios. ` +
        'The token is an ordinary access token (`iss`, `aud`, `sub`, `iat`, `exp`, `email`, `scope`; no `sid` or `jti`). ' +
        'Cold: CoreSDK with its verify cache off (`cacheSize: 0`), so every call verifies the signature and claims. ' +
        'Warm: the default cache, the same token again. jose gets the same key, already imported as a `CryptoKey`, and ' +
        'the options CoreSDK passes it. The floor is Node’s own primitive on the same signing input, with nothing parsed per call.',
    )
    out.push('')
    out.push(verifySection(report.verify))
    out.push('')
  }
  if (report.http) {
    out.push('## 2. HTTP: `GET /api/me` per framework')
    out.push('')
    out.push(
      `Each app runs alone in its own process; autocannon runs in another (${s.http.connections} connections, no pipelining)` +
        (s.http.pinning
          ? ', each on a CPU of its own: the servers on CPU 1, autocannon on CPU 0 (`taskset`). '
          : ', wherever the OS puts them (this machine cannot pin them to CPUs of their own). ') +
        `Per framework: a warm-up of ${formatNumber(s.http.warmupRequests)} requests per variant, then ${s.http.rounds} rounds of ${s.http.durationSec} s, the variants ` +
        'alternating (the order rotates each round); figures are medians of the rounds, ratios the medians of the per-round ratios (each round’s variants ran side by side). Every request carries the same RS256 token (the warm ' +
        'path: verify cache hit, session found). Server CPU is `process.cpuUsage()` over the measured window divided by the ' +
        'requests the server saw. Before measuring, each variant must answer 200 with the token and (except bare) 401 without it. ' +
        'Every process the bench starts (here and in section 4) first loads `apps/bench/src/steady-shapes.mjs`, which builds ' +
        'one object of the shape of Node’s `process.nextTick` tick objects: without it, the inline caches of the literal ' +
        'that builds them ended megamorphic in most server processes (which ones depended on start-up timing), and every ' +
        'tick then went through V8’s runtime, 35,000 to 43,000 more instructions per request on Fastify, Express and Nest, ' +
        'in some processes and not others, bare ones included. With it they stay monomorphic in every process: each ' +
        'variant is measured on its code, not on the state its process fell into (and bare servers are faster than a ' +
        'server started without it usually is).',
    )
    out.push('')
    const b = s.http.baseline
    if (b)
      out.push(
        b.ok
          ? `The baseline rows run CoreSDK on the memory store as commit \`${b.commit.slice(0, 12)}\` (${b.name}) built it: that commit's ` +
              'own server worker and packages, from an extracted copy with its own dependencies, loaded in the same rounds as the rest.\n'
          : `The baseline rows (${b.name}, \`${b.ref}\`) were not measured: ${b.reason}.\n`,
      )
    out.push(httpSection(report.http))
  }
  if (report.sessions) {
    out.push('## 3. Sessions')
    out.push('')
    out.push(
      `Direct \`sdk.sessions()\` calls in a process per store: ${s.sessions.count} calls one at a time (latency), then ` +
        `${s.sessions.count} with ${s.sessions.concurrency} in flight (throughput), ${s.sessions.rounds} rounds alternating memory, ` +
        'Redis and PostgreSQL, medians shown. `create` verifies an HS256 ID token first, as it does in production. Propagation: two ' +
        'processes, each a CoreSDK client on its own store (same Redis over pub/sub, or same PostgreSQL database over ' +
        'LISTEN/NOTIFY); B authenticates a token bound to the session and keeps ' +
        'authenticating it; A revokes; the time from just before `revoke()` on A to B’s listener and to B’s first refusal ' +
        '(wall-clock, both on this machine). Memory: sessions created by `authenticate()` with distinct tokens, in a process run ' +
        'with `--expose-gc`. At its cap: `MemorySessionStore.create` called directly with prepared records (one user and ' +
        'one credential key each), into a store holding as many records as `maxSessions` allows (each create evicts the ' +
        'least recently used) and into one with room for twice as many; the two cases alternate, after a warm-up round. CPU ' +
        'time is the process’s (`process.cpuUsage()`, GC threads included), which other work on the machine disturbs less ' +
        'than wall-clock time; the target is judged on it.',
    )
    out.push('')
    out.push(sessionsSection(report.sessions))
    out.push('')
  }
  if (report.instructions && s.instructions) {
    const i = s.instructions
    out.push('## 4. Instructions per request (callgrind)')
    out.push('')
    out.push(
      `Each server of section 2, alone in its own process under \`valgrind --tool=callgrind\` with counting off until ${formatNumber(i.warmupRequests)} ` +
        `warm-up requests have run, then on for ${formatNumber(i.requests)} requests (${i.connections} connections from autocannon in another process); ` +
        'counts are per thread, divided by the requests the server saw. The main thread runs the JavaScript and most of the ' +
        'garbage collection; the helper threads (the optimising compiler, concurrent marking) are shown apart, as they vary ' +
        'with when the JIT happens to work. Unlike CPU time, the count does not move with other work on the machine, so ' +
        'the main-thread ratios are the steadiest measure of what CoreSDK adds on the warm path, and the targets are judged ' +
        'on them. It leaves out time in the kernel, which CoreSDK does not add to (no system call on the warm path). ' +
        'A store re-reads a cached session once it is `localCache.maxStaleness` old (1 s by default), by the clock: at ' +
        'full speed once per tens of thousands of requests, but valgrind serves only the few hundred a second of the ' +
        '“req/s under valgrind” column, so the same clock would count each re-read (cold, unoptimised code) a hundred ' +
        `times over. The Redis and PostgreSQL rows therefore run with \`maxStaleness\` at ${formatNumber(CALLGRIND_STALENESS / 60_000)} minutes: ` +
        'no re-read falls inside a counted window, as none would in most windows of as many requests at full speed, and ' +
        'the rows count what a warm request does; the re-reads are in the CPU times of section 2. ' +
        (i.processes > 1
          ? `Each variant ran in ${i.processes} processes, started one after another round by round; the figure is their median, ` +
            'and the spread column gives the lowest and highest process against it: processes of one server differ with ' +
            'where and when the JIT optimised. A full (mark-compact) garbage collection inside a counted window is named ' +
            'in the spread column.'
          : 'Each variant ran in one process: processes of one server differ with where and when the JIT optimised, by ' +
            'a few percent on most (a full run takes the median of several).'),
    )
    out.push('')
    out.push(instructionsSection(report.instructions))
    out.push('')
  }
  const missed = report.targets.filter((t) => t.met === false)
  out.push('## Misses and profiles')
  out.push('')
  if (missed.length === 0) out.push('No target was missed in this run.')
  else {
    out.push(
      'For each missed target the subject was profiled under the same load with V8’s sampling profiler, started and ' +
        'stopped through the inspector inside the measured process (start-up is left out). “Self” time is spent in the ' +
        'function itself; “inclusive” counts what it calls.',
    )
    out.push('')
    for (const t of missed) out.push(`- ${t.text}: ${verdict(t)}`)
    out.push('')
    for (const profile of report.profiles) {
      out.push(profileSection(profile))
      out.push('')
    }
  }
  return `${out.join('\n').trimEnd()}\n`
}
