import { requireServices, startRedisServer } from '@coresdk/testing'
import { describeStoreOutage } from '../outage.ts'

// The test kills and restarts a redis-server of its own: never the shared one.
const probe = await startRedisServer().then(
  async (server) => {
    await server.stop()
    return null
  },
  (error: Error) => `no redis-server to start and stop: ${error.message}`,
)
if (probe !== null) {
  if (requireServices()) throw new Error(`${probe}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
  console.warn(`skipped Redis fault tests: ${probe}`)
}

describeStoreOutage('Redis', probe, async () => {
  let redis = await startRedisServer()
  return {
    env: { REDIS_URL: redis.url },
    stop: () => redis.stop(),
    async restart() {
      redis = await startRedisServer({ port: redis.port })
    },
    destroy: () => redis.stop(),
  }
})
