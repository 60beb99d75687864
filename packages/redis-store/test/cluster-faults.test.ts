import { CoreSDKError } from '@coresdk/core'
import { makeSessionRecord, redisCommand } from '@coresdk/testing'
import { Cluster } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisSessionStore, redisClientOptions } from '../src/index.ts'
import { startTestCluster, whenReady } from './helpers.ts'

const DEADLINE = 500

// A cluster of its own: this test takes a master down for good.
const { cluster, reason } = await startTestCluster()
afterAll(() => cluster?.stop())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(cluster === null)(`a Redis Cluster that loses a master ${reason}`, () => {
  it('reports store_unavailable, never another error, on the lost slots and once the cluster is down', async () => {
    const [lost, ...alive] = cluster!.nodes
    // No offline queue and quick retries on CLUSTERDOWN: ioredis's own errors reach the store before its deadline.
    const client = new Cluster(cluster!.nodes, {
      redisOptions: redisClientOptions(),
      enableOfflineQueue: false,
      retryDelayOnClusterDown: 10,
    })
    client.on('error', () => {})
    await whenReady(client)
    const store = createRedisSessionStore({ client, commandTimeout: DEADLINE, subscriber: null })
    try {
      const tenant = `cluster-down-${Date.now()}`
      const sessions = Array.from({ length: 30 }, (_, i) =>
        makeSessionRecord({ tenantId: tenant, userId: `usr_${i}` }),
      )
      for (const session of sessions) await store.create(tenant, session)

      await redisCommand(lost!.host, lost!.port, 'SHUTDOWN NOSAVE')
      const everyCall = () =>
        sessions.flatMap((session) => [
          store.getByKey(tenant, session.key!),
          store.create(tenant, makeSessionRecord({ tenantId: tenant, userId: session.userId })),
          store.listForUser(tenant, session.userId),
        ])
      /** Each call's outcome: 'ok', or the error's code and whether ioredis (not the store's deadline) raised it. */
      const outcomes = () =>
        Promise.all(
          everyCall().map((call) =>
            call.then(
              () => 'ok',
              (error: unknown) =>
                error instanceof CoreSDKError
                  ? `${error.code}${error.cause === undefined ? ' (deadline)' : ''}`
                  : String(error),
            ),
          ),
        )
      const codes = async () => new Set((await outcomes()).map((o) => o.replace(' (deadline)', '')))
      // Until the live masters notice (cluster-node-timeout), their slots still answer.
      const early = await codes()
      expect([...early].filter((code) => code !== 'ok' && code !== 'store_unavailable')).toEqual([])
      expect(early.has('store_unavailable')).toBe(true)

      const deadline = Date.now() + 20_000
      let state = ''
      while (!state.includes('cluster_state:fail') && Date.now() < deadline) {
        state = (await redisCommand(alive[0]!.host, alive[0]!.port, 'CLUSTER INFO')) ?? ''
        await sleep(100)
      }
      expect(state).toContain('cluster_state:fail')
      // Not only the store's own deadline: CLUSTERDOWN and refused connections, as ioredis reports them, count too.
      let fromRedis = false
      for (let round = 0; round < 20 && !fromRedis; round++) {
        const started = performance.now()
        const late = await outcomes()
        expect(performance.now() - started).toBeLessThan(DEADLINE + 1000)
        expect(new Set(late.map((o) => o.replace(' (deadline)', '')))).toEqual(new Set(['store_unavailable']))
        fromRedis = late.includes('store_unavailable')
      }
      expect(fromRedis).toBe(true)
    } finally {
      await store.close()
      client.disconnect()
    }
  }, 60_000)
})
