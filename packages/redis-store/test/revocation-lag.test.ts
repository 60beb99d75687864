import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CoreSDKClient } from '@coresdk/core'
import { ensureRedis } from '@coresdk/testing'
import * as api from '@opentelemetry/api'
import { type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisSessionStore } from '../src/index.ts'
import { connect } from './helpers.ts'

const redis = await ensureRedis()
afterAll(() => redis.stop?.())

class Reader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function lagOf(
  reader: Reader,
): Promise<{ count: number; sum: number; max: number; store: unknown } | undefined> {
  const { resourceMetrics } = await reader.collect()
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === 'coresdk.revocation.lag') as HistogramMetricData | undefined
  const point = metric?.dataPoints.find((p) => p.attributes['coresdk.revocation.kind'] === 'user')
  return (
    point && {
      count: point.value.count,
      sum: point.value.sum ?? 0,
      max: point.value.max ?? 0,
      store: point.attributes['coresdk.store.kind'],
    }
  )
}

describe.skipIf(redis.url === null)(`the revocation-lag metric ${redis.reason ?? ''}`, () => {
  it('measures, on this instance, a revoke-all made by another process on the same Redis', async () => {
    const reader = new Reader()
    const provider = new MeterProvider({ readers: [reader] })
    api.metrics.setGlobalMeterProvider(provider)
    const client = await connect(redis.url!)
    const store = createRedisSessionStore({ client })
    await store.ready()
    const tenantId = `lag-${Date.now()}`
    const sdk = new CoreSDKClient({
      env: {},
      tenantId,
      telemetry: { api },
      jwt: { issuer: 'https://issuer.test/', audience: 'lag', algorithms: ['HS256'], secret: 'x'.repeat(32) },
      sessions: { store },
    })
    try {
      const revoker = fileURLToPath(new URL('./revoker.ts', import.meta.url))
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@coresdk/source', '--import', 'tsx', revoker, redis.url!, tenantId, 'usr_lag'],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000, encoding: 'utf8' },
      )
      const { before } = JSON.parse(stdout) as { before: number; after: number }
      let lag = await lagOf(reader)
      for (let i = 0; i < 100 && lag === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        lag = await lagOf(reader)
      }
      const heardBy = Date.now()
      expect(lag?.count).toBe(1)
      expect(lag?.store).toBe('redis')
      // From the revocation's own timestamp to this process applying it: at least zero, and never more than the
      // whole span from the moment the other process started revoking to now.
      expect(lag!.sum).toBeGreaterThanOrEqual(0)
      expect(lag!.sum).toBeLessThanOrEqual((heardBy - before) / 1000)
      expect(lag!.max).toBeLessThan(1)
    } finally {
      await sdk.close()
      await store.close()
      client.disconnect()
      await provider.shutdown()
      api.metrics.disable()
    }
  })
})
