import { requireServices, startPostgresServer } from '@coresdk/testing'
import { describeStoreOutage } from '../outage.ts'

// The test stops and restarts a PostgreSQL cluster of its own (initdb into a temporary folder): never the shared one.
const probe = await startPostgresServer().then(
  async (server) => {
    await server.destroy()
    return null
  },
  (error: Error) => `no PostgreSQL cluster to start and stop: ${error.message}`,
)
if (probe !== null) {
  if (requireServices()) throw new Error(`${probe}; CORESDK_REQUIRE_SERVICES=1 makes this a failure`)
  console.warn(`skipped PostgreSQL fault tests: ${probe}`)
}

describeStoreOutage('PostgreSQL', probe, async () => {
  const server = await startPostgresServer()
  return {
    // The app creates the tables in the new cluster's `postgres` database on start.
    env: { DATABASE_URL: server.url },
    // A fast shutdown: PostgreSQL disconnects every client, the listener included, then exits.
    stop: () => server.stop(),
    restart: () => server.start(),
    destroy: () => server.destroy(),
  }
})
