import { CoreSDKClient } from '@coresdk/core'
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
const sdk = new CoreSDKClient({ sessions: { store: redis?.store } })

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
