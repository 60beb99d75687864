import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { TestIssuer } from '@coresdk/testing'
import { Redis } from 'ioredis'
import pg from 'pg'
import { parseArgs, USAGE } from './args.ts'
import { type Baseline, DEFAULT_BASELINE, prepareBaseline } from './baseline.ts'
import { BENCH_DIR, cpuPinning, killAllWorkers, liveWorkerCount } from './children.ts'
import type { Fixture } from './fixture.ts'
import {
  HTTP_PROFILE_FUNCTIONS,
  type HttpSettings,
  profileHttpVariant,
  runHttpBench,
} from './http/http-bench.ts'
import {
  callgrindMissing,
  type InstructionResult,
  type InstructionSettings,
  runInstructionBench,
} from './http/instructions.ts'
import { TELEMETRY_VARIANTS, VARIANTS, type Variant } from './http/variants.ts'
import { machineInfo, packageVersions } from './machine.ts'
import { type ProfileSummary, summarizeProfile } from './profile.ts'
import {
  type BenchReport,
  httpSection,
  instructionsSection,
  type MissProfile,
  machineSection,
  profileSection,
  renderMarkdown,
  sessionsSection,
  targetsSection,
  verifySection,
} from './report.ts'
import { runSessionsBench, type SessionSettings } from './sessions/sessions-bench.ts'
import { benchSchema } from './stores.ts'
import { evaluateTargets, type ProfileSubject } from './targets.ts'
import {
  profileVerify,
  runVerifyBench,
  VERIFY_PROFILE_FUNCTIONS,
  type VerifyAlgorithm,
  type VerifySettings,
} from './verify/verify-bench.ts'

const QUICK = {
  verify: { rounds: 3, durationMs: 150, warmupMs: 150 },
  http: { rounds: 2, durationSec: 1, warmupRequests: 2000, connections: 50 },
  sessions: { rounds: 2, count: 200, concurrency: 16, revocations: 200, memorySessions: 50_000 },
  instructions: { warmupRequests: 3000, requests: 2000, connections: 8, parallel: 2, processes: 1 },
  profileSec: 4,
}
const FULL = {
  verify: { rounds: 7, durationMs: 1000, warmupMs: 500 },
  http: { rounds: 3, durationSec: 8, warmupRequests: 10_000, connections: 50 },
  sessions: { rounds: 3, count: 2000, concurrency: 16, revocations: 500, memorySessions: 100_000 },
  instructions: { warmupRequests: 6000, requests: 4000, connections: 8, parallel: 2, processes: 3 },
  profileSec: 8,
}

const began = performance.now()
const log = (line: string): void =>
  console.log(`${line} [${((performance.now() - began) / 1000).toFixed(0)} s]`)

async function redisVersion(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.info('server')
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  } catch {
    return null
  } finally {
    client.disconnect()
  }
}

/** The PostgreSQL server's version, or null when it does not answer. */
async function postgresVersion(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    const result = await client.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    )
    return result.rows[0]?.version ?? 'unknown'
  } catch {
    return null
  } finally {
    await client.end().catch(() => {})
  }
}

/** Drops the schema this run's PostgreSQL store wrote to. */
async function cleanPostgres(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } catch {
    // Nothing to clean when PostgreSQL is not there.
  } finally {
    await client.end().catch(() => {})
  }
}

/** Deletes every key this run wrote (they all start with the run's prefix). */
async function cleanRedis(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await client.unlink(...keys)
    } while (cursor !== '0')
  } catch {
    // Nothing to clean when Redis is not there.
  } finally {
    client.disconnect()
  }
}

/** jose alone, the baseline of a cold-verification profile. */
type VerifyBaseline = { kind: 'jose'; alg: VerifyAlgorithm }

/** What a subject is compared with: bare for CoreSDK, the memory store for Redis and PostgreSQL, jose for verification. */
function baselineOf(subject: ProfileSubject): ProfileSubject | VerifyBaseline | null {
  if (subject.kind === 'verify') return { kind: 'jose', alg: subject.alg }
  if (subject.variant === 'coresdk-memory') return { ...subject, variant: 'bare' }
  if (
    subject.variant === 'coresdk-redis' ||
    subject.variant === 'coresdk-postgres' ||
    subject.variant === 'coresdk-otel-nosdk'
  )
    return { ...subject, variant: 'coresdk-memory' }
  if (subject.variant === 'coresdk-otel') return { ...subject, variant: 'coresdk-traced' }
  return null
}

function subjectKey(subject: ProfileSubject): string {
  return subject.kind === 'http'
    ? `http-${subject.framework}-${subject.variant}`
    : `verify-${subject.alg}-coresdk-cold`
}

function subjectName(subject: ProfileSubject | VerifyBaseline): string {
  if (subject.kind === 'http') return `${subject.framework} ${subject.variant}`
  return subject.kind === 'jose' ? `jose ${subject.alg}` : `CoreSDK ${subject.alg} cold`
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.help) return void console.log(USAGE)
  const started = performance.now()
  const plan = args.quick ? QUICK : FULL
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

  const machine = machineInfo(await redisVersion(redisUrl), await postgresVersion(databaseUrl))
  const versions = packageVersions()
  console.log(`CoreSDK benchmarks (${args.quick ? 'quick' : 'full'} run)\n`)
  console.log(machineSection({ machine, versions }))
  console.log('')

  const issuer = await TestIssuer.create({
    alg: 'RS256',
    issuer: 'https://issuer.bench/',
    audience: 'bench-api',
  })
  const token = await issuer.mint({ email: 'user-1@example.com', scope: 'read:me' }, { expiresIn: 3 * 3600 })
  const fixture: Fixture = {
    issuer: issuer.issuer,
    audience: issuer.audience,
    publicJwk: issuer.keys.publicJwk!,
    publicPem: issuer.keys.publicPem!,
    redisUrl,
    databaseUrl,
    runId,
  }
  // The empty-middleware reference rows cost time a quick run does not have.
  const variants = VARIANTS.filter((v) => !args.quick || v !== 'empty')
  let baseline: Baseline | null = null
  if (args.baseline !== null && (args.parts.includes('http') || args.parts.includes('instructions'))) {
    const name = args.baseline === DEFAULT_BASELINE.ref ? DEFAULT_BASELINE.name : `commit ${args.baseline}`
    baseline = prepareBaseline(args.baseline, name, log)
    if (!baseline.ok) log(`  baseline ${args.baseline}: ${baseline.reason}`)
  }
  const httpSettings: HttpSettings = {
    ...plan.http,
    frameworks: args.frameworks,
    variants,
    baseline,
    pinning: cpuPinning(),
  }
  const instructionVariants: Variant[] = [
    'bare',
    'empty',
    'coresdk-memory',
    'coresdk-per-route',
    'coresdk-baseline',
    'coresdk-redis',
    'coresdk-postgres',
    ...TELEMETRY_VARIANTS,
  ]
  const instructionSettings: InstructionSettings = {
    ...plan.instructions,
    frameworks: args.frameworks,
    variants: instructionVariants,
    baseline,
  }
  const verifySettings: VerifySettings = plan.verify
  const sessionSettings: SessionSettings = plan.sessions

  try {
    let verify = null
    let http = null
    let sessions = null
    let instructions: InstructionResult[] | null = null
    if (args.parts.includes('verify')) {
      console.log('1. Token verification')
      verify = await runVerifyBench(verifySettings, log)
      console.log(`\n${verifySection(verify)}\n`)
    }
    if (args.parts.includes('http')) {
      console.log('2. HTTP')
      http = await runHttpBench(httpSettings, fixture, token, log)
      console.log(`\n${httpSection(http)}`)
    }
    if (args.parts.includes('sessions')) {
      console.log('3. Sessions')
      sessions = await runSessionsBench(sessionSettings, fixture, issuer.keys.signingKey as CryptoKey, log)
      console.log(`\n${sessionsSection(sessions)}\n`)
    }

    if (args.parts.includes('instructions')) {
      console.log('4. Instructions per request (callgrind)')
      const missing = callgrindMissing()
      if (missing) console.log(`  not measured: ${missing}`)
      else {
        instructions = await runInstructionBench(instructionSettings, fixture, token, log)
        console.log(`\n${instructionsSection(instructions)}\n`)
      }
    }
    const targets = evaluateTargets(verify, http, sessions, instructions)
    console.log('Targets\n')
    console.log(`${targetsSection(targets)}\n`)

    const profiles: MissProfile[] = []
    if (args.profile) {
      const subjects = new Map<string, { subject: ProfileSubject; targetIds: string[] }>()
      for (const target of targets) {
        if (target.met !== false || target.profile === null) continue
        const key = subjectKey(target.profile)
        const entry = subjects.get(key) ?? { subject: target.profile, targetIds: [] }
        entry.targetIds.push(target.id)
        subjects.set(key, entry)
      }
      const dir = join(BENCH_DIR, '.profiles')
      if (subjects.size > 0) {
        console.log('Profiling the missed targets')
        mkdirSync(dir, { recursive: true })
      }
      const take = async (subject: ProfileSubject | VerifyBaseline): Promise<ProfileSummary> => {
        const { profile, operations } =
          subject.kind === 'http'
            ? await profileHttpVariant(
                subject.framework,
                subject.variant,
                { ...httpSettings, durationSec: plan.profileSec },
                fixture,
                token,
              )
            : await profileVerify(
                subject.alg,
                subject.kind === 'verify' ? 'coresdk-cold' : 'jose',
                plan.profileSec * 1000,
              )
        const key = subject.kind === 'jose' ? `verify-${subject.alg}-jose` : subjectKey(subject)
        writeFileSync(join(dir, `${key}.cpuprofile`), JSON.stringify(profile))
        const names = subject.kind === 'http' ? HTTP_PROFILE_FUNCTIONS : VERIFY_PROFILE_FUNCTIONS
        return summarizeProfile(profile, names, 15, operations)
      }
      for (const [key, { subject, targetIds }] of subjects) {
        try {
          const summary = await take(subject)
          const base = baselineOf(subject)
          const baseline = base ? { subject: subjectName(base), summary: await take(base) } : null
          const miss: MissProfile = { targetIds, subject: subjectName(subject), summary, baseline }
          profiles.push(miss)
          console.log(`\n${profileSection(miss)}\n`)
        } catch (error) {
          console.log(`  ${key}: could not profile (${String(error).split('\n')[0]})`)
        }
      }
      if (subjects.size > 0)
        console.log(`Raw profiles: apps/bench/.profiles/*.cpuprofile (open in Chrome DevTools)\n`)
    }

    const report: BenchReport = {
      date: new Date().toISOString().slice(0, 10),
      mode: args.quick ? 'quick' : 'full',
      machine,
      versions,
      settings: {
        verify: verifySettings,
        http: httpSettings,
        sessions: sessionSettings,
        instructions: instructionSettings,
      },
      verify,
      http,
      instructions,
      sessions,
      targets,
      profiles,
      durationSec: (performance.now() - started) / 1000,
    }
    if (args.write) {
      const file = join(BENCH_DIR, '..', '..', 'docs', 'benchmarks.md')
      mkdirSync(join(file, '..'), { recursive: true })
      writeFileSync(file, renderMarkdown(report))
      console.log('Wrote docs/benchmarks.md')
    } else {
      console.log('docs/benchmarks.md left as it was (a --quick run writes it only with --write)')
    }
    console.log(`Done in ${Math.round(report.durationSec)} s.`)
  } finally {
    killAllWorkers()
    await cleanRedis(redisUrl, `bench-${runId}`)
    await cleanPostgres(databaseUrl, benchSchema({ runId }))
  }
}

process.on('exit', killAllWorkers)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAllWorkers()
    process.exit(130)
  })
}

main().then(
  () => {
    if (liveWorkerCount() > 0) killAllWorkers()
    process.exit(0)
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    killAllWorkers()
    process.exit(1)
  },
)
