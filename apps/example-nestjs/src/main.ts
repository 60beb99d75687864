import { CoreSDKClient } from '@coresdk/core'
import { createRedisSessionStore, redisClientOptions } from '@coresdk/redis-store'
import { Redis } from 'ioredis'
import { createApp } from './app.ts'

// Everything else (issuer, audience, JWKS URL, algorithms, tenant, fail mode) is read by CoreSDKClient from CORESDK_*.
// Redis commands give up no later than CoreSDK's own store deadline, so nothing lingers after a request has its answer.
const storeTimeout = Number(process.env.CORESDK_STORE_TIMEOUT_MS) || 1000
const redis = process.env.REDIS_URL
  ? new Redis(process.env.REDIS_URL, redisClientOptions({ commandTimeout: storeTimeout }))
  : null
const store = redis ? createRedisSessionStore({ client: redis, commandTimeout: storeTimeout }) : undefined
// ioredis reconnects by itself; an outage is logged once (requests meanwhile follow CORESDK_FAIL_MODE).
let redisDown = false
redis?.on('error', (error: NodeJS.ErrnoException) => {
  if (!redisDown) console.warn(`redis unavailable (${error.code ?? 'error'}); reconnecting`)
  redisDown = true
})
redis?.on('ready', () => {
  if (redisDown) console.warn('redis available again')
  redisDown = false
})
const sdk = new CoreSDKClient({ sessions: { store } })

const app = await createApp(sdk)
await app.listen(Number(process.env.PORT ?? 3000))
const { port } = app.getHttpServer().address() as { port: number }
console.log(`example-nestjs listening on http://localhost:${port}`)

async function shutdown(): Promise<void> {
  await app.close()
  await sdk.close()
  await store?.close()
  await redis?.quit()
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed', error)
        process.exit(1)
      },
    )
  })
}
