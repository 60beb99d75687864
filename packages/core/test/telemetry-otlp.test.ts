import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as api from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { afterAll, describe, expect, it } from 'vitest'
import { bearer, hsClient, hsToken } from './helpers.ts'

interface OtlpSpan {
  name: string
  attributes: Array<{ key: string; value: Record<string, unknown> }>
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

// A plain OTLP/HTTP receiver: it decodes what the exporter sends to /v1/traces (JSON encoding).
const received: Array<{ path: string; contentType: string; spans: OtlpSpan[] }> = []
const receiver = createServer(async (request, response) => {
  const body = JSON.parse(await bodyOf(request)) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>
  }
  received.push({
    path: request.url ?? '',
    contentType: String(request.headers['content-type']),
    spans: body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
  })
  response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
})

afterAll(async () => {
  api.trace.disable()
  await new Promise((resolve) => receiver.close(resolve))
})

describe('OpenTelemetry over OTLP/HTTP', () => {
  it('exports the authenticate span and its store calls to a collector, with no token or user id on the wire', async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const { port } = receiver.address() as AddressInfo
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` })
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
    api.trace.setGlobalTracerProvider(provider)
    const sdk = hsClient({ telemetry: { api } })
    const token = await hsToken({ sub: 'usr_wire', sid: 'idp-wire' })
    const result = await sdk.authenticate(bearer(token))
    expect(result.ok).toBe(true)
    await provider.forceFlush()
    await provider.shutdown()
    await sdk.close()
    expect(received.every((r) => r.path === '/v1/traces' && r.contentType.includes('json'))).toBe(true)
    const spans = received.flatMap((r) => r.spans)
    const root = spans.find((s) => s.name === 'coresdk.authenticate')
    expect(Object.fromEntries(root!.attributes.map((a) => [a.key, Object.values(a.value)[0]]))).toMatchObject(
      {
        'coresdk.outcome': 'allowed',
        'coresdk.engine.mode': 'embedded',
        'coresdk.store.kind': 'memory',
      },
    )
    expect(spans.map((s) => s.name)).toEqual(
      expect.arrayContaining(['coresdk.store.getByKey', 'coresdk.store.create']),
    )
    const wire = JSON.stringify(received)
    for (const secret of [token, 'usr_wire', 'idp-wire', result.ok ? result.session!.id : ''])
      expect(wire).not.toContain(secret)
  })
})
