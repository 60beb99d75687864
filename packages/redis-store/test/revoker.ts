// Another instance of a service, for the revocation-lag test: it revokes every session of a user through its own
// client on the shared Redis, prints when, and exits.
import { CoreSDKClient } from '@coresdk/core'
import { createRedisSessionStore } from '../src/index.ts'
import { connect } from './helpers.ts'

const [url, tenantId, userId] = process.argv.slice(2) as [string, string, string]
const client = await connect(url)
const store = createRedisSessionStore({ client, localCache: false })
const sdk = new CoreSDKClient({
  env: {},
  tenantId,
  jwt: { issuer: 'https://issuer.test/', audience: 'lag', algorithms: ['HS256'], secret: 'x'.repeat(32) },
  sessions: { store },
})
const before = Date.now()
await sdk.sessions().revokeAllForUser(userId)
process.stdout.write(`${JSON.stringify({ before, after: Date.now() })}\n`)
await sdk.close()
await store.close()
client.disconnect()
