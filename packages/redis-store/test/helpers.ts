import { type RedisClusterService, requireServices, startRedisCluster } from '@coresdk/testing'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { redisClientOptions } from '../src/index.ts'

/** Waits for an ioredis client's `ready` event, or rejects after `timeoutMs`. */
export function whenReady(client: Redis | Cluster, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready within ${timeoutMs} ms`)), timeoutMs)
    client.once('ready', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** A client with the recommended options, connected. */
export async function connect(url: string, overrides: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, redisClientOptions(overrides))
  client.on('error', () => {})
  await whenReady(client)
  return client
}

/** A Cluster client with the recommended node options, connected. */
export async function connectCluster(nodes: Array<{ host: string; port: number }>): Promise<Cluster> {
  const client = new Cluster(nodes, { redisOptions: redisClientOptions() })
  client.on('error', () => {})
  await whenReady(client)
  return client
}

/** The p-th percentile (0–100) of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

/**
 * A 3-node Redis Cluster of the calling file's own, or the reason there is none (for `describe.skipIf`); a missing
 * cluster is a failure under `CORESDK_REQUIRE_SERVICES=1`.
 */
export async function startTestCluster(): Promise<{ cluster: RedisClusterService | null; reason: string }> {
  try {
    return { cluster: await startRedisCluster(3), reason: '' }
  } catch (error) {
    const reason = `no Redis Cluster could be started (${(error as Error).message})`
    if (requireServices()) throw new Error(`${reason}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
    console.warn(`skipped: ${reason}`)
    return { cluster: null, reason }
  }
}
