import type { Session } from 'node:inspector/promises'

/** The part of a V8 `.cpuprofile` the summary reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number
    callFrame: { functionName: string; url: string; lineNumber: number }
    children?: number[]
  }>
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

/** One function's share of the profile. */
export interface ProfileLine {
  name: string
  where: string
  area: string
  selfMs: number
  selfShare: number
}

/** A profile reduced to what a reader needs: where the time went, by area and by function. */
export interface ProfileSummary {
  /** Requests (or verifications) completed while the profile ran; 0 when unknown. */
  operations: number
  totalMs: number
  /** Time not idle: the total less `(idle)`. */
  busyMs: number
  /** Self time by area; `usPerOp` is microseconds per operation (NaN when `operations` is unknown). */
  areas: Array<{ area: string; selfMs: number; share: number; usPerOp: number }>
  top: ProfileLine[]
  /**
   * Inclusive time under each of these functions (counted once per sample), as a share of busy time. A name may be
   * qualified by its area, `verify in @coresdk/core`, where several functions share it.
   */
  inclusive: Array<{ name: string; ms: number; share: number }>
}

// A workspace package's sources (as tsx runs them) or its build (as the bench loads it).
const WORKSPACE = /\/packages\/([a-z-]+)\/(?:src|dist)\//

/** The area a frame belongs to, from its script URL. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC'
    if (functionName === '(idle)') return 'idle'
    if (functionName === '(program)') return 'V8 / native'
    return 'native'
  }
  const workspace = WORKSPACE.exec(url)
  if (workspace) return workspace[1] === 'core' ? '@coresdk/core' : `@coresdk/${workspace[1]}`
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg) return pkg[1]!
  if (url.startsWith('node:')) return 'Node.js internals'
  if (url.includes('/apps/bench/')) return 'bench app'
  return 'other'
}

/**
 * Where a frame's script is, as a reader of the report knows it: a package's own path, a workspace path, or a file's
 * name (never the machine's folders).
 */
export function shortUrl(url: string): string {
  const workspace = /\/(packages\/[a-z-]+\/(?:src|dist)\/.*)$/.exec(url)
  if (workspace) return workspace[1]!
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.*)$/.exec(url)
  if (pkg) return pkg[1]!
  const bench = /\/apps\/bench\/(.*)$/.exec(url)
  if (bench) return bench[1]!
  if (!url.startsWith('file:') && !url.startsWith('/')) return url
  return url.slice(url.lastIndexOf('/') + 1)
}

/**
 * Sums a profile's samples by function (self time), by area (CoreSDK, a framework, jose, Node, GC), and the
 * inclusive time under the named functions.
 */
export function summarizeProfile(
  profile: CpuProfile,
  inclusiveNames: readonly string[] = [],
  top = 15,
  operations = 0,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const selfById = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  const functions = new Map<string, ProfileLine>()
  const areas = new Map<string, number>()
  const inclusive = new Map<string, number>(inclusiveNames.map((n) => [n, 0]))
  const specs = inclusiveNames.map((spec) => {
    const [name, area] = spec.split(' in ')
    return { spec, name: name!, area }
  })
  let total = 0
  let idle = 0
  for (const [id, ms] of selfById) {
    const node = byId.get(id)
    if (!node) continue
    const { functionName, url, lineNumber } = node.callFrame
    const area = areaOf(url, functionName)
    total += ms
    if (area === 'idle') idle += ms
    areas.set(area, (areas.get(area) ?? 0) + ms)
    const name = functionName || '(anonymous)'
    // TypeScript run through tsx reports positions in its generated code: a line number there would mislead.
    const where = url ? (url.endsWith('.ts') ? shortUrl(url) : `${shortUrl(url)}:${lineNumber + 1}`) : ''
    const key = `${name}@${where}`
    const line = functions.get(key) ?? { name, where, area, selfMs: 0, selfShare: 0 }
    line.selfMs += ms
    functions.set(key, line)
    if (inclusiveNames.length > 0) {
      const seen = new Set<string>()
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)?.callFrame
        if (!frame) continue
        for (const { spec, name, area } of specs) {
          if (seen.has(spec) || frame.functionName !== name) continue
          if (area !== undefined && areaOf(frame.url, frame.functionName) !== area) continue
          seen.add(spec)
          inclusive.set(spec, inclusive.get(spec)! + ms)
        }
      }
    }
  }
  const busy = total - idle
  const share = (ms: number): number => (busy > 0 ? ms / busy : 0)
  const perOp = (ms: number): number => (operations > 0 ? (ms * 1000) / operations : Number.NaN)
  return {
    operations,
    totalMs: total,
    busyMs: busy,
    areas: [...areas]
      .filter(([area]) => area !== 'idle')
      .map(([area, ms]) => ({ area, selfMs: ms, share: share(ms), usPerOp: perOp(ms) }))
      .sort((a, b) => b.selfMs - a.selfMs),
    top: [...functions.values()]
      .filter((line) => line.area !== 'idle')
      .map((line) => ({ ...line, selfShare: share(line.selfMs) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    inclusive: [...inclusive].map(([name, ms]) => ({ name, ms, share: share(ms) })),
  }
}

/** Profiling handlers for a worker: `profile-start` and `profile-stop` (which answers the profile). */
export function profilerHandlers(): Record<string, () => Promise<Record<string, unknown>>> {
  let session: Session | null = null
  return {
    async 'profile-start'() {
      const { Session } = await import('node:inspector/promises')
      session = new Session()
      session.connect()
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 100 })
      await session.post('Profiler.start')
      return {}
    },
    async 'profile-stop'() {
      if (!session) throw new Error('profile-stop without profile-start')
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile }
      session.disconnect()
      session = null
      return { profile }
    },
  }
}
