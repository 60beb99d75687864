// One instance of an app in its own process: a CoreSDK client over the shared Redis store, its OIDC client bound as
// the refresher. On {refresh: id, calls} it makes that many concurrent sdk.sessions().refresh(id) calls and answers
// the access token each caller then holds.
import { CoreSDKClient } from '@coresdk/core'
import { createRedisSessionStore, redisClientOptions } from '@coresdk/redis-store'
import { Redis } from 'ioredis'
import { createOidcClient, createOidcRefresher } from '../src/index.ts'

function need(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`the worker needs ${name}`)
  return value
}
const client = new Redis(need('REDIS_URL'), redisClientOptions())
client.on('error', () => {})
const store = createRedisSessionStore({ client })
await store.ready()
const refresher = createOidcRefresher()
const sdk = new CoreSDKClient({
  tenantId: need('TENANT'),
  jwt: {
    issuer: need('ISSUER'),
    audience: 'oidc-test-api',
    idTokenAudience: need('CLIENT_ID'),
    jwksUri: `${need('ISSUER')}/jwks`,
    algorithms: ['RS256'],
  },
  sessions: {
    store,
    encryptionKey: need('ENCRYPTION_KEY'),
    tokenRefresher: refresher,
    refreshLockTtl: Number(need('LOCK_TTL')),
  },
  env: {},
})
await createOidcClient({
  sdk,
  refresher,
  issuer: need('ISSUER'),
  clientId: need('CLIENT_ID'),
  clientSecret: need('CLIENT_SECRET'),
  redirectUri: need('REDIRECT_URI'),
  cookieSecret: need('COOKIE_SECRET'),
  allowInsecureRequests: true,
})

process.on('message', async (message: { refresh: string; calls: number }) => {
  const answers = await Promise.all(
    Array.from({ length: message.calls }, async () => {
      try {
        const session = await sdk.sessions().refresh(message.refresh)
        const tokens = await sdk.sessions().getTokens(session.id)
        return { ok: true, accessToken: tokens?.accessToken ?? null, active: session.isActive() }
      } catch (error) {
        return { ok: false, code: (error as { code?: string }).code ?? 'unknown' }
      }
    }),
  )
  process.send!({ answers })
})
process.on('disconnect', () => {
  void sdk.close().finally(() => {
    void store.close()
    client.disconnect()
  })
})
process.send!({ ready: true })
