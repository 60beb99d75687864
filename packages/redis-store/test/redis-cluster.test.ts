import { describeSessionStore, makeSessionRecord } from '@coresdk/testing/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisSessionStore } from '../src/index.ts'
import { connectCluster, startTestCluster } from './helpers.ts'

const { cluster, reason } = await startTestCluster()
afterAll(() => cluster?.stop())

describe.skipIf(cluster === null)(`RedisSessionStore on Redis Cluster ${reason}`, () => {
  const nodes = cluster?.nodes ?? []
  describeSessionStore('RedisSessionStore on a 3-node Redis Cluster', async () => {
    const client = await connectCluster(nodes)
    const store = createRedisSessionStore({ client })
    await store.ready()
    return {
      store,
      cleanup: async () => {
        await store.close()
        client.disconnect()
      },
    }
  })

  describe('RedisSessionStore on a 3-node Redis Cluster: key layout', () => {
    it("spreads users over the nodes while keeping each user's keys on one slot", async () => {
      const client = await connectCluster(nodes)
      const store = createRedisSessionStore({ client })
      try {
        const users = Array.from({ length: 30 }, (_, i) => `usr_spread_${i}_${Date.now()}`)
        for (const userId of users)
          await store.create('spread', makeSessionRecord({ tenantId: 'spread', userId }))
        const perNode = await Promise.all(
          client
            .nodes('master')
            .map((node) => node.keys('coresdk:spread:{u:*}:s:*').then((keys) => keys.length)),
        )
        // Every node holds some users' sessions: the slots are spread, not all on one node.
        expect(perNode.filter((count) => count > 0).length).toBe(3)
        expect(perNode.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30)
      } finally {
        await store.close()
        client.disconnect()
      }
    })
  })
})
