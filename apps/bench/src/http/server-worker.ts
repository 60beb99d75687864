import { constants, PerformanceObserver } from 'node:perf_hooks'
import { CoreSDKClient } from '@coresdk/core'
import { serveParent } from '../children.ts'
import { readFixture } from '../fixture.ts'
import { profilerHandlers } from '../profile.ts'
import { openStore, type StoreKind } from '../stores.ts'
import { APP_BUILDERS } from './apps.ts'
import type { Framework, Variant } from './variants.ts'

// One app, alone in this process: the load generator runs in another, so the two never share an event loop.
const framework = process.argv[2] as Framework
const variant = process.argv[3] as Variant
const fixture = readFixture()

let sdk: CoreSDKClient | undefined
let closeStore = async (): Promise<void> => {}
const STORES: Partial<Record<Variant, StoreKind>> = {
  'coresdk-memory': 'memory',
  'coresdk-per-route': 'memory',
  'coresdk-traced': 'memory',
  'coresdk-otel': 'memory',
  'coresdk-otel-nosdk': 'memory',
  'coresdk-redis': 'redis',
  'coresdk-postgres': 'postgres',
}
const storeKind = STORES[variant]
const telemetry =
  variant === 'coresdk-traced' || variant === 'coresdk-otel' || variant === 'coresdk-otel-nosdk'
    ? await import('./telemetry.ts')
    : null
let closeSdk = async (): Promise<void> => {}
if (telemetry && variant !== 'coresdk-otel-nosdk') closeSdk = telemetry.installSdk()
if (storeKind !== undefined) {
  const opened = await openStore(storeKind, fixture)
  if (!opened.ok) {
    process.send?.({ type: 'ready', unavailable: opened.reason })
    process.exit(0)
  }
  closeStore = opened.close
  sdk = new CoreSDKClient({
    tenantId: `bench-${fixture.runId}`,
    jwt: {
      issuer: fixture.issuer,
      audience: fixture.audience,
      algorithms: ['RS256'],
      publicKeys: [fixture.publicJwk as never],
    },
    sessions: { store: opened.store },
    ...(telemetry && variant !== 'coresdk-traced' ? { telemetry: { api: telemetry.api } } : {}),
    env: {},
  })
}

const app = await APP_BUILDERS[framework]({ variant, fixture, sdk })
if (telemetry && variant !== 'coresdk-otel-nosdk') telemetry.traceRequests(app.server)
let requests = 0
app.server.on('request', () => {
  requests++
})
let window: { cpu: NodeJS.CpuUsage; requests: number } | null = null
// Full (mark-compact) garbage collections in the window: one costs as much as thousands of warm requests, so whether
// one falls inside a short window moves the per-request figure.
let fullGcs = 0
new PerformanceObserver((list) => {
  if (!window) return
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++
  }
}).observe({ entryTypes: ['gc'] })

serveParent(
  {
    ...profilerHandlers(),
    // With `--allow-natives-syntax` (the bench's check of steady-shapes.mjs): prints V8's view of `process.nextTick`,
    // its inline caches' states among it, to standard output (C's, buffered: complete once the worker has exited).
    inlineCaches() {
      if (!process.execArgv.includes('--allow-natives-syntax'))
        throw new Error('needs --allow-natives-syntax')
      new Function('f', '%DebugPrint(f)')(process.nextTick)
      return {}
    },
    begin() {
      window = { cpu: process.cpuUsage(), requests }
      fullGcs = 0
      return {}
    },
    end() {
      if (!window) throw new Error('end without begin')
      const cpu = process.cpuUsage(window.cpu)
      const served = requests - window.requests
      window = null
      return {
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        requests: served,
        fullGcs,
      }
    },
  },
  { port: app.port },
  async () => {
    await app.close()
    await sdk?.close()
    await closeStore()
    await closeSdk()
  },
)
