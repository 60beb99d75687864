import { startDemo } from './demo.ts'

const demo = await startDemo()
console.log(`CoreSDK demo: open ${demo.appUrl}`)
console.log(`  OpenID provider: ${demo.providerUrl} (sign in with any username)`)
console.log(
  `  Sessions: ${demo.store === 'redis' ? 'Redis (REDIS_URL)' : 'in memory'}. Press Ctrl+C to stop.`,
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
