import { startWorker } from '../children.ts'
import type { CpuProfile } from '../profile.ts'
import { median } from '../stats.ts'

/** The verification competitors, as the report names them. */
export const VERIFY_COMPETITORS = ['coresdk-cold', 'coresdk-warm', 'jose', 'node'] as const
/** One verification competitor. */
export type VerifyCompetitor = (typeof VERIFY_COMPETITORS)[number]
/** The algorithms measured. */
export const VERIFY_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const
/** One algorithm measured. */
export type VerifyAlgorithm = (typeof VERIFY_ALGORITHMS)[number]

/** How long the verification loops run. */
export interface VerifySettings {
  rounds: number
  durationMs: number
  warmupMs: number
}

/** The median of one competitor's rounds. */
export interface VerifyResult {
  alg: VerifyAlgorithm
  competitor: VerifyCompetitor
  opsPerSec: number
  nsPerOp: number
  rounds: number[]
}

/**
 * Measures token verification in a child process: for each algorithm, CoreSDK without and with its verify cache,
 * jose's `jwtVerify`, and Node's `crypto.verify`, in alternating rounds (the order rotates each round).
 */
export async function runVerifyBench(
  settings: VerifySettings,
  log: (line: string) => void,
): Promise<VerifyResult[]> {
  const { worker } = await startWorker('verify/verify-worker.ts')
  try {
    await worker.request({ type: 'setup' })
    const samples = new Map<string, number[]>()
    for (let round = 0; round < settings.rounds; round++) {
      for (const alg of VERIFY_ALGORITHMS) {
        const order = rotate(VERIFY_COMPETITORS, round)
        for (const competitor of order) {
          const reply = await worker.request<{ type: string; opsPerSec: number }>({
            type: 'measure',
            alg,
            competitor,
            durationMs: settings.durationMs,
            warmupMs: settings.warmupMs,
          })
          const key = `${alg}/${competitor}`
          samples.set(key, [...(samples.get(key) ?? []), reply.opsPerSec])
        }
      }
      log(`  verification round ${round + 1}/${settings.rounds} done`)
    }
    const results: VerifyResult[] = []
    for (const alg of VERIFY_ALGORITHMS) {
      for (const competitor of VERIFY_COMPETITORS) {
        const rounds = samples.get(`${alg}/${competitor}`) ?? []
        const opsPerSec = median(rounds)
        results.push({ alg, competitor, opsPerSec, nsPerOp: 1e9 / opsPerSec, rounds })
      }
    }
    return results
  } finally {
    await worker.stop()
  }
}

/**
 * How many times longer `a` takes per token than `b`: the median of the rounds' own ratios (each round ran the two
 * side by side, so a drift of the machine between rounds cancels), else the ratio of the medians when the rounds
 * were not kept.
 */
export function timeRatio(a: VerifyResult | undefined, b: VerifyResult | undefined): number {
  if (a === undefined || b === undefined) return Number.NaN
  if (a.rounds.length === 0 || a.rounds.length !== b.rounds.length) return a.nsPerOp / b.nsPerOp
  // Rounds hold operations per second: time per token is their inverse.
  return median(a.rounds.map((ops, i) => b.rounds[i]! / ops))
}

/** The list shifted left by `by` places (round-robin order for alternating rounds). */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = ((by % items.length) + items.length) % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}

/** Function names whose inclusive time the verification profiles report. */
export const VERIFY_PROFILE_FUNCTIONS = [
  '#authorize',
  'verify in @coresdk/core',
  '#verifyCold',
  '#verifySignatureAndClaims',
  'jwtVerify',
  'sessionKey',
  'candidates',
  'digest in Node.js internals',
  'verify in Node.js internals',
] as const

/** Profiles one competitor's loop (after its warm-up) and returns the raw profile. */
export async function profileVerify(
  alg: VerifyAlgorithm,
  competitor: VerifyCompetitor,
  durationMs: number,
): Promise<{ profile: CpuProfile; operations: number }> {
  const { worker } = await startWorker('verify/verify-worker.ts')
  try {
    await worker.request({ type: 'setup' })
    await worker.request({ type: 'measure', alg, competitor, durationMs: 200, warmupMs: 500 })
    await worker.request({ type: 'profile-start' })
    const { ops } = await worker.request<{ type: string; ops: number }>({
      type: 'measure',
      alg,
      competitor,
      durationMs,
      warmupMs: 0,
    })
    const { profile } = await worker.request<{ type: string; profile: CpuProfile }>({
      type: 'profile-stop',
    })
    return { profile, operations: ops }
  } finally {
    await worker.stop()
  }
}
