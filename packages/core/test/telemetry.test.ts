import { readFileSync } from 'node:fs'
import * as api from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { type DataPoint, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { CoreSDKClient, CoreSDKError, MemorySessionStore, type OpenTelemetryApi } from '../src/index.ts'
import { AUDIENCE, bearer, hsClient, hsToken, ISSUER, SECRET } from './helpers.ts'
import { createTestKeys, mintToken, startJwksServer } from './kit.ts'

class Reader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const spans = new InMemorySpanExporter()
// Every span of the file, never reset: the docs test compares their names with the page.
const everySpan = new InMemorySpanExporter()
const reader = new Reader()
const tracerProvider = new TracerProvider({
  spanProcessors: [
    new SimpleSpanProcessor({ exporter: spans }),
    new SimpleSpanProcessor({ exporter: everySpan }),
  ],
})
const meterProvider = new MeterProvider({ readers: [reader] })
const telemetry = { api }

beforeAll(() => {
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  api.trace.setGlobalTracerProvider(tracerProvider)
  api.metrics.setGlobalMeterProvider(meterProvider)
})
afterAll(async () => {
  await tracerProvider.shutdown()
  await meterProvider.shutdown()
  api.trace.disable()
  api.metrics.disable()
  api.context.disable()
})
beforeEach(() => spans.reset())

/** The points of one metric, as collected now. */
async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect()
  return metricsOf(resourceMetrics).find((m) => m.descriptor.name === name)?.dataPoints ?? []
}

function metricsOf(resource: ResourceMetrics) {
  return resource.scopeMetrics.flatMap((scope) => scope.metrics)
}

function sum(list: DataPoint<unknown>[], match: Record<string, unknown> = {}): number {
  return list
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce(
      (total, p) => total + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
      0,
    )
}

const named = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.name === name)

/** A memory store that can be made unreachable. */
class FlakyStore extends MemorySessionStore {
  down = false
  override getByKey(...args: Parameters<MemorySessionStore['getByKey']>) {
    return this.down ? Promise.reject(new CoreSDKError('store_unavailable')) : super.getByKey(...args)
  }
}

describe('OpenTelemetry', () => {
  it('takes the @opentelemetry/api module as it is, and names the setting when given something else', () => {
    expectTypeOf(api).toMatchTypeOf<OpenTelemetryApi>()
    expect(() => hsClient({ telemetry: { api: {} as OpenTelemetryApi } })).toThrow(/telemetry\.api/)
  })

  it('traces a cold authenticate with its store calls as children, and counts the decision', async () => {
    const sdk = hsClient({ telemetry, tenantId: 'traced' })
    const token = await hsToken({ sid: 'idp-trace', sub: 'usr_trace' })
    const before = sum(await points('coresdk.auth.decisions'), { 'coresdk.outcome': 'allowed' })
    const result = await sdk.authenticate(bearer(token))
    expect(result.ok).toBe(true)
    const [root] = named('coresdk.authenticate')
    expect(root?.attributes).toMatchObject({
      'coresdk.outcome': 'allowed',
      'coresdk.reason': 'none',
      'coresdk.degraded': false,
      'coresdk.engine.mode': 'embedded',
      'coresdk.store.kind': 'memory',
      'coresdk.via': 'bearer',
    })
    const store = spans.getFinishedSpans().filter((s) => s.name.startsWith('coresdk.store.'))
    expect(store.map((s) => s.name)).toEqual(
      expect.arrayContaining(['coresdk.store.getByKey', 'coresdk.store.create']),
    )
    for (const child of store) expect(child.parentSpanContext?.spanId).toBe(root!.spanContext().spanId)
    expect(sum(await points('coresdk.auth.decisions'), { 'coresdk.outcome': 'allowed' })).toBe(before + 1)
    const latency = await points('coresdk.store.duration')
    expect(
      sum(latency, { 'coresdk.store.operation': 'create', 'coresdk.outcome': 'ok' }),
    ).toBeGreaterThanOrEqual(1)
    await sdk.close()
  })

  it('answers the warm path without a span of its own: its decision goes on the request span, and is counted', async () => {
    const sdk = hsClient({ telemetry })
    const token = await hsToken({ sid: 'idp-warm' })
    await sdk.authenticate(bearer(token))
    spans.reset()
    const hits = sum(await points('coresdk.verify_cache.hits'))
    const allowed = sum(await points('coresdk.auth.decisions'), { 'coresdk.outcome': 'allowed' })
    const warm = (sdk as unknown as { authenticate: typeof sdk.authenticate }).authenticate(bearer(token))
    expect((await warm).ok).toBe(true)
    expect(named('coresdk.authenticate')).toHaveLength(0)
    const tracer = api.trace.getTracer('test')
    await tracer.startActiveSpan('GET /api/me', async (request) => {
      await sdk.authenticate(bearer(token))
      request.end()
    })
    expect(named('coresdk.authenticate')).toHaveLength(0)
    // Allowed: the outcome alone (a reason is set only for a refusal or a degraded pass).
    expect(named('GET /api/me')[0]!.attributes).toEqual({ 'coresdk.outcome': 'allowed' })
    expect(sum(await points('coresdk.verify_cache.hits'))).toBe(hits + 2)
    expect(sum(await points('coresdk.auth.decisions'), { 'coresdk.outcome': 'allowed' })).toBe(allowed + 2)
    // A token this instance knows revoked is refused on the warm path too: the reason goes on the span with it.
    const result = await warm
    if (!result.ok || result.session === null) throw new Error('the warm request carried no session')
    await sdk.sessions().revoke(result.session.id)
    await tracer.startActiveSpan('GET /api/me again', async (request) => {
      expect((await sdk.authenticate(bearer(token))).ok).toBe(false)
      request.end()
    })
    expect(named('GET /api/me again')[0]!.attributes).toEqual({
      'coresdk.outcome': 'refused',
      'coresdk.reason': 'invalid_token',
    })
    await sdk.close()
  })

  it('counts refusals by reason, and verify-cache misses', async () => {
    const sdk = hsClient({ telemetry })
    const misses = sum(await points('coresdk.verify_cache.misses'))
    const refused = sum(await points('coresdk.auth.decisions'), { 'coresdk.reason': 'invalid_token' })
    const missing = sum(await points('coresdk.auth.decisions'), { 'coresdk.reason': 'missing_credentials' })
    await sdk.authenticate(bearer(`${await hsToken()}x`))
    await sdk.authenticate({})
    expect(sum(await points('coresdk.auth.decisions'), { 'coresdk.reason': 'invalid_token' })).toBe(
      refused + 1,
    )
    expect(sum(await points('coresdk.auth.decisions'), { 'coresdk.reason': 'missing_credentials' })).toBe(
      missing + 1,
    )
    expect(sum(await points('coresdk.verify_cache.misses'))).toBe(misses + 1)
    expect(named('coresdk.authenticate').map((s) => s.attributes['coresdk.outcome'])).toEqual([
      'refused',
      'refused',
    ])
    await sdk.close()
  })

  it('counts requests let through while failing open, and measures the period once the store answers', async () => {
    const store = new FlakyStore()
    const sdk = hsClient({ telemetry, failMode: 'open', sessions: { store } })
    const before = sum(await points('coresdk.fail_open.requests'))
    const periods = sum(await points('coresdk.fail_open.duration'))
    store.down = true
    for (const n of [1, 2]) {
      const result = await sdk.authenticate(bearer(await hsToken({ sid: `idp-open-${n}` })))
      expect(result.ok && result.degraded).toBe(true)
    }
    expect(named('coresdk.store.getByKey')[0]?.attributes['coresdk.outcome']).toBe('unavailable')
    expect(named('coresdk.authenticate')[0]?.attributes).toMatchObject({
      'coresdk.degraded': true,
      'coresdk.store.kind': 'custom',
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    store.down = false
    expect((await sdk.authenticate(bearer(await hsToken({ sid: 'idp-open-3' })))).ok).toBe(true)
    expect(sum(await points('coresdk.fail_open.requests'))).toBe(before + 2)
    const duration = await points('coresdk.fail_open.duration')
    expect(sum(duration)).toBe(periods + 1)
    expect((duration[0]!.value as { max: number }).max).toBeGreaterThanOrEqual(0.015)
    await sdk.close()
  })

  it('traces and counts JWK Set fetches and their failures', async () => {
    const keys = await createTestKeys('RS256')
    const jwks = await startJwksServer({ keys: [keys] })
    const sdk = new CoreSDKClient({
      env: {},
      telemetry,
      jwt: {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['RS256'],
        jwksUri: jwks.jwksUrl,
        jwksCooldown: 0,
      },
    })
    const fetches = sum(await points('coresdk.jwks.fetches'))
    const failures = sum(await points('coresdk.jwks.failures'))
    const token = await mintToken({ keys, claims: { iss: ISSUER, aud: AUDIENCE, sub: 'usr_jwks' } })
    expect((await sdk.authenticate(bearer(token))).ok).toBe(true)
    await jwks.setDown(true)
    const other = await createTestKeys('RS256')
    const unknown = await mintToken({ keys: other, claims: { iss: ISSUER, aud: AUDIENCE, sub: 'usr_jwks' } })
    expect((await sdk.authenticate(bearer(unknown))).ok).toBe(false)
    expect(sum(await points('coresdk.jwks.fetches'))).toBe(fetches + 2)
    expect(sum(await points('coresdk.jwks.failures'))).toBe(failures + 1)
    expect(named('coresdk.jwks.fetch').map((s) => s.attributes['coresdk.outcome'])).toEqual(['ok', 'failed'])
    await sdk.close()
    await jwks.close()
  })

  it('traces refresh and logout, and measures revocation lag for revocations the store reports', async () => {
    const store = new MemorySessionStore()
    const sdk = hsClient({ telemetry, sessions: { store } })
    const lag = sum(await points('coresdk.revocation.lag'))
    const first = await sdk.authenticate(bearer(await hsToken({ sid: 'idp-refresh' })))
    if (!first.ok || first.session === null) throw new Error('refused')
    await sdk.sessions().refresh(first.session.id)
    await expect(sdk.sessions().refresh('sess_absent000000000000000000')).rejects.toThrow()
    await sdk.logout({ session: first.session, user: first.user })
    expect(named('coresdk.refresh').map((s) => s.attributes['coresdk.outcome'])).toEqual(['ok'])
    expect(named('coresdk.logout')[0]?.attributes).toMatchObject({
      'coresdk.outcome': 'ok',
      'coresdk.logout.revoked': 1,
      'coresdk.logout.everywhere': false,
    })
    await sdk.sessions().revokeAllForUser('usr_1')
    expect(sum(await points('coresdk.revocation.lag'))).toBeGreaterThan(lag)
    await sdk.close()
  })

  it('exports no token, claim value, user id or session id in any span or metric attribute', async () => {
    const sdk = hsClient({ telemetry })
    const secrets = ['usr_leak', 'leak@example.com', 'idp-leak']
    const token = await hsToken({ sub: 'usr_leak', email: 'leak@example.com', sid: 'idp-leak' })
    const result = await sdk.authenticate(bearer(token))
    if (!result.ok || result.session === null) throw new Error('refused')
    secrets.push(token, result.session.id)
    await sdk.authenticate(bearer(token))
    await sdk.authenticate(bearer(`${token}x`))
    await sdk.sessions().refresh(result.session.id)
    await sdk.logout({ session: result.session, user: result.user, everywhere: true })
    const { resourceMetrics } = await reader.collect()
    const exported = JSON.stringify({
      spans: spans.getFinishedSpans().map((s) => [s.name, s.attributes, s.events, s.status]),
      metrics: metricsOf(resourceMetrics).map((m) => [m.descriptor, m.dataPoints.map((p) => p.attributes)]),
    })
    expect(exported).toContain('coresdk.authenticate')
    for (const secret of secrets) expect(exported).not.toContain(secret)
    await sdk.close()
  })

  it('docs/observability.md: its snippet is this one, and its tables name exactly the spans and metrics exported here', async () => {
    const env = { ISSUER: ISSUER, AUDIENCE: AUDIENCE, ALGORITHMS: 'HS256', SECRET: SECRET }
    for (const [name, value] of Object.entries(env)) vi.stubEnv(`CORESDK_JWT_${name}`, value)
    // snippet: telemetry
    const sdk = new CoreSDKClient({
      tenantId: 'acme',
      serviceName: 'my-api',
      telemetry: { api },
    })
    // end
    vi.unstubAllEnvs()
    await sdk.close()
    const page = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8')
    const source = readFileSync(new URL(import.meta.url), 'utf8')
    const snippet = /\/\/ snippet: telemetry\n([\s\S]*?)\n\s*\/\/ end/
      .exec(source)![1]!
      .replace(/^ {4}/gm, '')
    const block = /```ts\n([\s\S]*?)```/
      .exec(page)![1]!
      .replace(/^import .*\n/gm, '')
      .trim()
    expect(block).toBe(snippet.trim())
    const rows = (heading: string) => {
      const section = page.split(`## ${heading}\n`)[1]!.split('\n## ')[0]!
      return new Set([...section.matchAll(/^\| `([\w.<>]+)` +\|/gm)].map((m) => m[1]!))
    }
    const spanNames = new Set(
      everySpan
        .getFinishedSpans()
        .map((s) => s.name.replace(/^coresdk\.store\..+/, 'coresdk.store.<operation>'))
        .filter((name) => name.startsWith('coresdk.')),
    )
    expect(rows('Spans')).toEqual(spanNames)
    const { resourceMetrics } = await reader.collect()
    expect(rows('Metrics')).toEqual(new Set(metricsOf(resourceMetrics).map((m) => m.descriptor.name)))
  })
})
