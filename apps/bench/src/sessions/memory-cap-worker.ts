import { MemorySessionStore } from '@coresdk/core'
import type { SessionRecord } from '@coresdk/core/store'
import { makeSessionRecord } from '@coresdk/testing'
import { serveParent } from '../children.ts'

// MemorySessionStore.create straight on the store (no client, no token), below its cap and at it. Both stores hold
// `capacity` records while measured; at the cap every create evicts one. Run with --expose-gc.
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('memory-cap-worker needs --expose-gc')

const TENANT = 'bench'
let serial = 0

/** Distinct token sessions, one user and one credential key each, made before any timing. */
function records(count: number): SessionRecord[] {
  return Array.from({ length: count }, () => {
    const i = serial++
    const userId = `user-${i}`
    return makeSessionRecord({ tenantId: TENANT, userId, key: `jti:t-${i}`, claims: { sub: userId } })
  })
}

/**
 * Wall-clock and CPU nanoseconds per `create` of `count` new sessions into a store of `maxSessions` already holding
 * `held`. CPU time (this process, GC threads included) is what other work on the machine disturbs least.
 */
async function measure(
  maxSessions: number,
  held: number,
  count: number,
): Promise<{ nsPerOp: number; cpuNsPerOp: number }> {
  const store = new MemorySessionStore({ maxSessions, sweepInterval: 0 })
  for (const record of records(held)) await store.create(TENANT, record)
  const fresh = records(count)
  gc!()
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  for (const record of fresh) await store.create(TENANT, record)
  const elapsed = Number(process.hrtime.bigint() - started)
  const used = process.cpuUsage(cpu)
  if (store.size !== Math.min(maxSessions, held + count))
    throw new Error(`the store holds ${store.size} records`)
  await store.close()
  return { nsPerOp: elapsed / count, cpuNsPerOp: ((used.user + used.system) * 1000) / count }
}

serveParent({
  async measure(message) {
    const capacity = Number(message.capacity)
    const count = Number(message.count)
    const at = Boolean(message.atCap)
    // Below: room for twice as many, so `count` creates never reach the cap. At: full, so each one evicts.
    return at ? measure(capacity, capacity, count) : measure(2 * capacity, capacity, count)
  },
})
