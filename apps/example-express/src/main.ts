import { CoreSDKClient } from '@coresdk/core'
import { connectPostgresSessionStore } from '@coresdk/postgres-store'
import { connectRedisSessionStore } from '@coresdk/redis-store'
import { createApp } from './app.ts'

// Everything else (issuer, audience, JWKS URL, algorithms, tenant, fail mode) is read by CoreSDKClient from CORESDK_*.
// Redis commands give up no later than CoreSDK's own store deadline, so nothing lingers after a request has its answer.
const redis = process.env.REDIS_URL
  ? connectRedisSessionStore({
      url: process.env.REDIS_URL,
      commandTimeout: Number(process.env.CORESDK_STORE_TIMEOUT_MS) || 1000,
    })
  : null
// Sessions in PostgreSQL when DATABASE_URL is set and REDIS_URL is not; the first start creates the tables.
const postgres =
  !redis && process.env.DATABASE_URL
    ? await connectPostgresSessionStore({
        url: process.env.DATABASE_URL,
        commandTimeout: Number(process.env.CORESDK_STORE_TIMEOUT_MS) || 1000,
        schema: process.env.CORESDK_POSTGRES_SCHEMA || undefined,
      })
    : null
const sdk = new CoreSDKClient({ sessions: { store: redis?.store ?? postgres?.store } })

const server = createApp(sdk).listen(Number(process.env.PORT ?? 3000), () => {
  const address = server.address()
  console.log(
    `example-express listening on http://localhost:${typeof address === 'object' ? address?.port : address}`,
  )
})

async function shutdown(): Promise<void> {
  server.closeIdleConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await sdk.close()
  await redis?.close()
  await postgres?.close()
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
