import autocannon from 'autocannon'
import { serveParent } from '../children.ts'

/** What one load run measured (autocannon's figures; latency in ms). */
export interface LoadResult {
  rps: number
  requests: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  timeouts: number
}

// The load generator: autocannon in its own process, driven by the bench over IPC.
serveParent({
  async run(message) {
    // autocannon counts a duration in whole seconds; a warm-up is a number of requests instead.
    const amount = Number(message.amount ?? 0)
    const result = await autocannon({
      url: String(message.url),
      connections: Number(message.connections),
      ...(amount > 0 ? { amount } : { duration: Math.max(1, Math.round(Number(message.durationSec))) }),
      headers: message.headers as Record<string, string>,
      pipelining: 1,
    })
    const load: LoadResult = {
      rps: result.requests.total / (result.duration || 1),
      requests: result.requests.total,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    }
    return { ...load }
  },
})
