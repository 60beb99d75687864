import { SignJWT } from 'jose'
import { startWorker, type Worker, type WorkerMessage } from '../children.ts'
import type { Fixture } from '../fixture.ts'
import { median, pairedRatio, percentile } from '../stats.ts'
import type { StoreKind } from '../stores.ts'
import { rotate } from '../verify/verify-bench.ts'

/** How many operations the session measurements run. */
export interface SessionSettings {
  rounds: number
  /** Calls per operation per round (once one at a time, once `concurrency` at a time). */
  count: number
  concurrency: number
  revocations: number
  memorySessions: number
}

/** The session operations measured. */
export const SESSION_OPS = ['get', 'create', 'revoke'] as const

/** One operation on one store: medians over the rounds. */
export interface SessionOpResult {
  store: StoreKind
  op: (typeof SESSION_OPS)[number]
  unavailable: string | null
  opsPerSec: number
  p50: number
  p99: number
}

/** The stores that fan revocations out between processes. */
export type SharedStoreKind = Exclude<StoreKind, 'memory'>

/** Revocation propagation between two processes sharing one Redis or one PostgreSQL, in ms. */
export interface PropagationResult {
  store: SharedStoreKind
  unavailable: string | null
  count: number
  listenerP50: number
  listenerP99: number
  refusalP50: number
  refusalP99: number
  /** Iterations where B saw nothing within the timeout. */
  missed: number
}

/** Heap held by sessions in the memory store. */
export interface MemoryResult {
  count: number
  heapDelta: number
  bytesPerSession: number
}

/** `MemorySessionStore.create` below its cap and at it (each create evicting one), medians over the rounds. */
export interface MemoryCapResult {
  /** Records the store holds while measured (its `maxSessions` at the cap). */
  capacity: number
  /** Creates per round and case. */
  count: number
  /** Wall-clock ns per create. */
  belowCapNs: number
  atCapNs: number
  /** CPU ns per create (the process, GC included). */
  belowCapCpuNs: number
  atCapCpuNs: number
  /** The median of the per-round ratios at / below, in CPU time. */
  ratio: number
  /** The same in wall-clock time. */
  wallRatio: number
}

/** Everything the sessions part measured. */
export interface SessionsReport {
  ops: SessionOpResult[]
  propagation: PropagationResult[]
  memory: MemoryResult | { unavailable: string }
  memoryCap: MemoryCapResult | { unavailable: string }
}

async function measureOps(
  settings: SessionSettings,
  fixture: Fixture,
  log: (line: string) => void,
): Promise<SessionOpResult[]> {
  const env = { BENCH_FIXTURE: JSON.stringify(fixture) }
  const kinds: StoreKind[] = ['memory', 'redis', 'postgres']
  const workers = new Map<StoreKind, Worker>()
  const results: SessionOpResult[] = []
  try {
    for (const kind of kinds) {
      const { worker, ready } = await startWorker('sessions/sessions-worker.ts', { args: [kind], env })
      if (typeof ready.unavailable === 'string') {
        for (const op of SESSION_OPS)
          results.push({
            store: kind,
            op,
            unavailable: ready.unavailable,
            opsPerSec: Number.NaN,
            p50: Number.NaN,
            p99: Number.NaN,
          })
        await worker.stop()
      } else workers.set(kind, worker)
    }
    const samples = new Map<string, Array<{ opsPerSec: number; p50: number; p99: number }>>()
    for (const [, worker] of workers) {
      for (const op of SESSION_OPS)
        await worker.request({ type: 'measure', op, count: 200, concurrency: settings.concurrency })
    }
    for (let round = 0; round < settings.rounds; round++) {
      for (const op of SESSION_OPS) {
        for (const kind of rotate([...workers.keys()], round)) {
          const reply = await workers
            .get(kind)!
            .request<WorkerMessage & { opsPerSec: number; p50: number; p99: number }>({
              type: 'measure',
              op,
              count: settings.count,
              concurrency: settings.concurrency,
            })
          const key = `${kind}/${op}`
          samples.set(key, [...(samples.get(key) ?? []), reply])
        }
      }
      log(`  sessions round ${round + 1}/${settings.rounds} done`)
    }
    for (const kind of workers.keys()) {
      for (const op of SESSION_OPS) {
        const s = samples.get(`${kind}/${op}`) ?? []
        results.push({
          store: kind,
          op,
          unavailable: null,
          opsPerSec: median(s.map((x) => x.opsPerSec)),
          p50: median(s.map((x) => x.p50)),
          p99: median(s.map((x) => x.p99)),
        })
      }
    }
    return results
  } finally {
    await Promise.all([...workers.values()].map((w) => w.stop()))
  }
}

/** A propagation result with no figures, and why. */
export function unmeasuredPropagation(store: SharedStoreKind, unavailable: string): PropagationResult {
  return {
    store,
    unavailable,
    count: 0,
    listenerP50: Number.NaN,
    listenerP99: Number.NaN,
    refusalP50: Number.NaN,
    refusalP99: Number.NaN,
    missed: 0,
  }
}

async function measurePropagation(
  store: SharedStoreKind,
  settings: SessionSettings,
  fixture: Fixture,
  signingKey: CryptoKey,
  log: (line: string) => void,
): Promise<PropagationResult> {
  const env = { BENCH_FIXTURE: JSON.stringify(fixture) }
  const peers: Worker[] = []
  try {
    for (let i = 0; i < 2; i++) {
      const { worker, ready } = await startWorker('sessions/revocation-peer.ts', { args: [store], env })
      peers.push(worker)
      if (typeof ready.unavailable === 'string') return unmeasuredPropagation(store, ready.unavailable)
    }
    const [a, b] = peers as [Worker, Worker]
    const seen = new Map<string, (m: WorkerMessage) => void>()
    b.onMessage((m) => {
      if (m.type === 'seen') seen.get(String(m.sessionId))?.(m)
    })
    const mint = (claims: Record<string, unknown>): Promise<string> => {
      const iat = Math.floor(Date.now() / 1000)
      return new SignJWT({ iss: fixture.issuer, aud: fixture.audience, iat, exp: iat + 600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: String(fixture.publicJwk.kid) })
        .sign(signingKey)
    }
    const listener: number[] = []
    const refusal: number[] = []
    let missed = 0
    const total = settings.revocations + 10
    for (let i = 0; i < total; i++) {
      const sid = `bench-sid-${fixture.runId}-${i}`
      const claims = { sub: `rev-user-${i % 20}`, sid }
      const [idToken, accessToken] = await Promise.all([mint(claims), mint({ ...claims, scope: 'read:me' })])
      const { sessionId } = await a.request<WorkerMessage & { sessionId: string }>({
        type: 'create',
        idToken,
      })
      await b.request({ type: 'watch', sessionId, token: accessToken })
      const observed = new Promise<WorkerMessage | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 2000)
        seen.set(sessionId, (m) => {
          clearTimeout(timer)
          resolve(m)
        })
      })
      const { at } = await a.request<WorkerMessage & { at: number }>({ type: 'revoke', sessionId })
      const m = await observed
      seen.delete(sessionId)
      // The first ten are warm-up: connections, JIT and the local caches settle.
      if (i < 10) continue
      if (m === null) {
        missed++
        await b.request({ type: 'unwatch', sessionId })
        continue
      }
      listener.push(Number(m.eventAt) - at)
      refusal.push(Number(m.refusedAt) - at)
    }
    log(`  revocation propagation (${store}): ${listener.length} measured, ${missed} missed`)
    return {
      store,
      unavailable: null,
      count: listener.length,
      listenerP50: percentile(listener, 50),
      listenerP99: percentile(listener, 99),
      refusalP50: percentile(refusal, 50),
      refusalP99: percentile(refusal, 99),
      missed,
    }
  } finally {
    await Promise.all(peers.map((p) => p.stop()))
  }
}

async function measureMemory(count: number): Promise<MemoryResult | { unavailable: string }> {
  const { worker } = await startWorker('sessions/memory-worker.ts', { nodeArgs: ['--expose-gc'] })
  try {
    const reply = await worker.request<WorkerMessage & MemoryResult>({ type: 'measure', count }, 300_000)
    return { count: reply.count, heapDelta: reply.heapDelta, bytesPerSession: reply.bytesPerSession }
  } finally {
    await worker.stop()
  }
}

async function measureMemoryCap(
  settings: SessionSettings,
  log: (line: string) => void,
): Promise<MemoryCapResult> {
  const { worker } = await startWorker('sessions/memory-cap-worker.ts', { nodeArgs: ['--expose-gc'] })
  const capacity = settings.memorySessions
  const count = Math.max(1000, Math.floor(capacity / 5))
  // Short rounds, many of them: a ratio per round, paired side by side, cancels drift in the machine's load.
  const rounds = Math.max(5, 2 * settings.rounds)
  type Sample = { nsPerOp: number; cpuNsPerOp: number }
  const below: Sample[] = []
  const at: Sample[] = []
  try {
    // One round of each to warm up, then rounds alternating which case goes first.
    for (let round = -1; round < rounds; round++) {
      for (const atCap of round % 2 === 0 ? [true, false] : [false, true]) {
        const reply = await worker.request<WorkerMessage & Sample>(
          { type: 'measure', capacity, count, atCap },
          300_000,
        )
        if (round >= 0) (atCap ? at : below).push({ nsPerOp: reply.nsPerOp, cpuNsPerOp: reply.cpuNsPerOp })
      }
    }
  } finally {
    await worker.stop()
  }
  log(`  memory store at its cap: ${rounds} rounds of ${count} creates`)
  const wall = (s: Sample[]) => s.map((x) => x.nsPerOp)
  const cpu = (s: Sample[]) => s.map((x) => x.cpuNsPerOp)
  return {
    capacity,
    count,
    belowCapNs: median(wall(below)),
    atCapNs: median(wall(at)),
    belowCapCpuNs: median(cpu(below)),
    atCapCpuNs: median(cpu(at)),
    ratio: pairedRatio(cpu(at), cpu(below)),
    wallRatio: pairedRatio(wall(at), wall(below)),
  }
}

/**
 * Session operations in memory, Redis and PostgreSQL, revocation propagation between two processes on each shared
 * store, heap per session, and the memory store's create at its cap.
 */
export async function runSessionsBench(
  settings: SessionSettings,
  fixture: Fixture,
  signingKey: CryptoKey,
  log: (line: string) => void,
): Promise<SessionsReport> {
  const ops = await measureOps(settings, fixture, log)
  const propagation: PropagationResult[] = []
  for (const store of ['redis', 'postgres'] as const)
    propagation.push(await measurePropagation(store, settings, fixture, signingKey, log))
  log('  sessions: measuring memory')
  const memory = await measureMemory(settings.memorySessions)
  log(`  memory: ${settings.memorySessions} sessions measured`)
  const memoryCap = await measureMemoryCap(settings, log).catch((error: unknown) => ({
    unavailable: String(error).split('\n')[0]!,
  }))
  return { ops, propagation, memory, memoryCap }
}
