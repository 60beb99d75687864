import type { Server } from 'node:http'
import * as api from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace'

/** Takes every batch and keeps nothing: the cost measured is CoreSDK's and the SDK's, not an exporter's network. */
const dropping: SpanExporter = {
  export(_spans, done) {
    done({ code: 0 })
  },
  async shutdown() {},
}

/** Collects the metrics every second, as a periodic exporter would, and drops them. */
class DroppingReader extends MetricReader {
  readonly #timer: NodeJS.Timeout
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
    this.#timer = setInterval(() => void this.collect().catch(() => {}), 1000)
    this.#timer.unref()
  }
  protected async onShutdown(): Promise<void> {
    clearInterval(this.#timer)
  }
  protected async onForceFlush(): Promise<void> {}
}

/**
 * Installs the OpenTelemetry SDK globally, as an instrumented app does: an AsyncLocalStorage context manager, a tracer
 * provider sampling every span (batched to an exporter that drops them), a meter provider read every second.
 */
export function installSdk(): () => Promise<void> {
  const tracerProvider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter: dropping })],
  })
  const meterProvider = new MeterProvider({ readers: [new DroppingReader()] })
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  api.trace.setGlobalTracerProvider(tracerProvider)
  api.metrics.setGlobalMeterProvider(meterProvider)
  return async () => {
    await tracerProvider.shutdown()
    await meterProvider.shutdown()
  }
}

/**
 * Runs each request inside a server span, as `@opentelemetry/instrumentation-http` does (a span started on
 * `request`, active while the app's listener runs, ended when the response finishes), so CoreSDK's spans have a
 * recording parent.
 */
export function traceRequests(server: Server): void {
  const tracer = api.trace.getTracer('bench-http')
  const listeners = server.listeners('request') as Array<(...args: unknown[]) => void>
  server.removeAllListeners('request')
  server.on('request', (req, res) => {
    const span = tracer.startSpan('GET /api/me', { kind: api.SpanKind.SERVER })
    res.once('finish', () => span.end())
    api.context.with(api.trace.setSpan(api.context.active(), span), () => {
      for (const listener of listeners) listener.call(server, req, res)
    })
  })
}

export { api }
