import type { AuthenticateResult } from './engine.ts'
import { CoreSDKError } from './errors.ts'
import type { RevocationEvent } from './types.ts'

/** Attribute values CoreSDK puts on spans and metrics: never a token, a secret, a claim value or a user id. */
export type TelemetryAttributes = Record<string, string | number | boolean>

/** The part of an OpenTelemetry `Span` CoreSDK uses. */
export interface TelemetrySpan {
  setAttribute(key: string, value: string | number | boolean): unknown
  setStatus(status: { code: number }): unknown
  isRecording(): boolean
  end(): void
}

/** The part of an OpenTelemetry `Tracer` CoreSDK uses. */
export interface TelemetryTracer {
  startSpan(name: string, options?: { attributes?: TelemetryAttributes }, context?: unknown): TelemetrySpan
}

/** What an observable instrument's callback reports to. */
export interface ObservableResult {
  observe(value: number, attributes?: TelemetryAttributes): void
}

/** The part of an OpenTelemetry `Meter` CoreSDK uses. */
export interface TelemetryMeter {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: TelemetryAttributes): void }
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): { record(value: number, attributes?: TelemetryAttributes): void }
  createObservableCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    addCallback(callback: (result: ObservableResult) => void): void
    removeCallback(callback: (result: ObservableResult) => void): void
  }
}

/**
 * The part of the `@opentelemetry/api` module CoreSDK uses; pass the module itself. CoreSDK never imports it: without
 * this setting nothing is traced or measured, and `@opentelemetry/api` need not be installed.
 */
export interface OpenTelemetryApi {
  trace: {
    getTracer(name: string, version?: string): TelemetryTracer
    getActiveSpan(): TelemetrySpan | undefined
    setSpan(context: unknown, span: TelemetrySpan): unknown
  }
  context: {
    active(): unknown
    with(context: unknown, fn: () => unknown): unknown
  }
  metrics: { getMeter(name: string, version?: string): TelemetryMeter }
}

/** OpenTelemetry traces and metrics (see docs/observability.md). */
export interface TelemetryOptions {
  /**
   * The `@opentelemetry/api` module, whose global tracer and meter providers CoreSDK uses.
   * @example
   * import * as api from '@opentelemetry/api'
   * new CoreSDKClient({ telemetry: { api } })
   */
  api: OpenTelemetryApi
}

/** How long a store call, or a period of failing open, took: seconds, as OpenTelemetry's conventions measure. */
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const LAG_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const SPAN_ERROR = 2
const NAME = '@coresdk/core'

/** A decision counter with its attribute set, made once: recording is one increment. */
interface Tally {
  count: number
  readonly attributes: TelemetryAttributes
}

/**
 * CoreSDK's instruments over a user's `@opentelemetry/api`. The client holds one when `telemetry` is set, else null:
 * every call site checks for null first, so that telemetry off costs one comparison and allocates nothing.
 *
 * Counters on the warm path (decisions, verify-cache hits) are plain numbers read by observable counters at export
 * time, each with an attribute set built once; a warm decision starts no span, its attributes go on the request's.
 */
export class Telemetry {
  readonly #api: OpenTelemetryApi
  readonly #tracer: TelemetryTracer
  readonly #base: TelemetryAttributes
  readonly #allowed: Tally
  readonly #degraded: Tally
  readonly #anonymous: Tally
  readonly #refused = new Map<string, Tally>()
  readonly #storeLatency: ReturnType<TelemetryMeter['createHistogram']>
  readonly #storeAttributes = new Map<string, TelemetryAttributes>()
  readonly #jwksFetches: ReturnType<TelemetryMeter['createCounter']>
  readonly #jwksFailures: ReturnType<TelemetryMeter['createCounter']>
  readonly #failOpen: ReturnType<TelemetryMeter['createCounter']>
  readonly #failOpenDuration: ReturnType<TelemetryMeter['createHistogram']>
  readonly #lag: ReturnType<TelemetryMeter['createHistogram']>
  readonly #lagAttributes: { session: TelemetryAttributes; user: TelemetryAttributes }
  #failingOpenSince: number | null = null
  readonly #callbacks: Array<() => void> = []
  /** Verify-cache lookups, counted by the verifier. */
  readonly cache = { hits: 0, misses: 0 }

  constructor(options: TelemetryOptions, engineMode: string, storeKind: string) {
    const api = options?.api
    if (
      typeof api?.trace?.getTracer !== 'function' ||
      typeof api.metrics?.getMeter !== 'function' ||
      typeof api.context?.with !== 'function'
    )
      throw new CoreSDKError(
        'invalid_config',
        "CoreSDK configuration: telemetry.api is not the @opentelemetry/api module; it accepts `import * as api from '@opentelemetry/api'`.",
      )
    this.#api = api
    this.#tracer = api.trace.getTracer(NAME)
    const meter = api.metrics.getMeter(NAME)
    this.#base = { 'coresdk.engine.mode': engineMode, 'coresdk.store.kind': storeKind }
    this.#allowed = this.#tally('allowed', 'none', false)
    this.#degraded = this.#tally('allowed', 'store_unavailable', true)
    this.#anonymous = this.#tally('anonymous', 'none', false)
    const base = this.#base
    const observe = (
      name: string,
      description: string,
      unit: string,
      callback: (result: ObservableResult) => void,
    ) => {
      const instrument = meter.createObservableCounter(name, { description, unit })
      instrument.addCallback(callback)
      this.#callbacks.push(() => instrument.removeCallback(callback))
    }
    observe(
      'coresdk.auth.decisions',
      'Authentication decisions, by outcome and reason.',
      '{decision}',
      (result) => {
        for (const tally of [this.#allowed, this.#degraded, this.#anonymous, ...this.#refused.values()])
          if (tally.count > 0) result.observe(tally.count, tally.attributes)
      },
    )
    observe('coresdk.verify_cache.hits', 'Verify-cache lookups that found the token.', '{lookup}', (result) =>
      result.observe(this.cache.hits, base),
    )
    observe(
      'coresdk.verify_cache.misses',
      'Verify-cache lookups that did not: the token was verified.',
      '{lookup}',
      (result) => result.observe(this.cache.misses, base),
    )
    const seconds = (name: string, description: string, buckets: number[]) =>
      meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: buckets } })
    const counter = (name: string, description: string, unit: string) =>
      meter.createCounter(name, { description, unit })
    this.#storeLatency = seconds('coresdk.store.duration', 'Duration of session store calls.', SECONDS)
    this.#jwksFetches = counter('coresdk.jwks.fetches', 'JWK Set fetches started.', '{fetch}')
    this.#jwksFailures = counter(
      'coresdk.jwks.failures',
      'JWK Set fetches that failed (network, status, size or format).',
      '{fetch}',
    )
    this.#failOpen = counter(
      'coresdk.fail_open.requests',
      "Requests let through degraded while the store was unreachable (failMode: 'open').",
      '{request}',
    )
    this.#failOpenDuration = seconds(
      'coresdk.fail_open.duration',
      'How long each period of failing open lasted, until the store answered again.',
      SECONDS,
    )
    this.#lag = seconds(
      'coresdk.revocation.lag',
      'From a revocation to when this instance applied it, as reported by the store.',
      LAG_SECONDS,
    )
    this.#lagAttributes = {
      session: { ...base, 'coresdk.revocation.kind': 'session' },
      user: { ...base, 'coresdk.revocation.kind': 'user' },
    }
  }

  #tally(outcome: string, reason: string, degraded: boolean): Tally {
    return {
      count: 0,
      attributes: Object.freeze({
        ...this.#base,
        'coresdk.outcome': outcome,
        'coresdk.reason': reason,
        'coresdk.degraded': degraded,
      }),
    }
  }

  /** The tally a result counts in. */
  #tallyOf(result: AuthenticateResult): Tally {
    if (result.ok)
      return result.degraded ? this.#degraded : result.user === null ? this.#anonymous : this.#allowed
    const code = result.problem.body.code
    let tally = this.#refused.get(code)
    if (tally === undefined) {
      tally = this.#tally('refused', code, false)
      this.#refused.set(code, tally)
    }
    return tally
  }

  /** Counts a decision of the warm path, and puts its attributes on the request's span when that one records. */
  decided(result: AuthenticateResult): AuthenticateResult {
    const tally = this.#tallyOf(result)
    tally.count++
    // No span of its own: a span costs the SDK more than the whole warm decision. The outcome and reason go on the
    // request's span instead, when that one records. The SDK validates and counts on every set, so an allowed
    // decision sets its outcome alone (its reason is `none`); a refusal adds its reason, a degraded one `degraded`.
    // The engine mode and store kind are on every metric point already.
    const request = this.#api.trace.getActiveSpan()
    if (request?.isRecording()) {
      const attributes = tally.attributes
      request.setAttribute('coresdk.outcome', attributes['coresdk.outcome']!)
      if (attributes['coresdk.reason'] !== 'none')
        request.setAttribute('coresdk.reason', attributes['coresdk.reason']!)
      if (attributes['coresdk.degraded'] === true) request.setAttribute('coresdk.degraded', true)
    }
    return result
  }

  /** Runs the awaited pipeline under an `authenticate` span (its store and JWKS spans are its children). */
  authenticate(run: () => Promise<AuthenticateResult>): Promise<AuthenticateResult> {
    const span = this.#tracer.startSpan('coresdk.authenticate')
    const answer = this.#within(span, run)
    return answer.then((result) => {
      this.#tallyOf(result).count++
      this.#endAuthenticate(span, result)
      return result
    })
  }

  #endAuthenticate(span: TelemetrySpan, result: AuthenticateResult): void {
    const tally = this.#tallyOf(result)
    for (const key in tally.attributes) span.setAttribute(key, tally.attributes[key]!)
    if (result.ok) span.setAttribute('coresdk.via', result.via ?? 'none')
    // A refusal is the pipeline working: only a dependency failure marks the span an error.
    else if (result.problem.status >= 500) span.setStatus({ code: SPAN_ERROR })
    span.end()
  }

  #within<T>(span: TelemetrySpan, run: () => T): T {
    const api = this.#api
    return api.context.with(api.trace.setSpan(api.context.active(), span), run) as T
  }

  /** Runs an operation (`refresh`, `logout`) under its span; `attributes` names its outcome. */
  async span<T>(
    name: string,
    run: () => Promise<T>,
    attributes?: (value: T) => TelemetryAttributes,
  ): Promise<T> {
    const span = this.#tracer.startSpan(name, { attributes: this.#base })
    try {
      const value = await this.#within(span, run)
      span.setAttribute('coresdk.outcome', 'ok')
      if (attributes) for (const [key, v] of Object.entries(attributes(value))) span.setAttribute(key, v)
      return value
    } catch (error) {
      span.setAttribute('coresdk.outcome', 'error')
      span.setAttribute('coresdk.reason', CoreSDKError.from(error).code)
      span.setStatus({ code: SPAN_ERROR })
      throw error
    } finally {
      span.end()
    }
  }

  /** Times one store call under a span and the latency histogram, by operation and outcome. */
  store<T>(operation: string, call: Promise<T>): Promise<T> {
    const started = performance.now()
    const span = this.#tracer.startSpan(`coresdk.store.${operation}`, { attributes: this.#base })
    const done = (outcome: string) => {
      this.#storeLatency.record(
        (performance.now() - started) / 1000,
        this.#storeAttributesOf(operation, outcome),
      )
      span.setAttribute('coresdk.store.operation', operation)
      span.setAttribute('coresdk.outcome', outcome)
      if (outcome !== 'ok') span.setStatus({ code: SPAN_ERROR })
      span.end()
    }
    return call.then(
      (value) => {
        done('ok')
        return value
      },
      (error: unknown) => {
        done(CoreSDKError.from(error).code === 'store_unavailable' ? 'unavailable' : 'error')
        throw error
      },
    )
  }

  #storeAttributesOf(operation: string, outcome: string): TelemetryAttributes {
    const key = `${operation} ${outcome}`
    let attributes = this.#storeAttributes.get(key)
    if (attributes === undefined) {
      attributes = Object.freeze({
        ...this.#base,
        'coresdk.store.operation': operation,
        'coresdk.outcome': outcome,
      })
      this.#storeAttributes.set(key, attributes)
    }
    return attributes
  }

  /** Times one JWK Set fetch under a span, counting it and, when it fails, its failure. */
  async jwksFetch<T>(fetch: () => Promise<T>): Promise<T> {
    const span = this.#tracer.startSpan('coresdk.jwks.fetch', { attributes: this.#base })
    this.#jwksFetches.add(1, this.#base)
    try {
      const value = await fetch()
      span.setAttribute('coresdk.outcome', 'ok')
      return value
    } catch (error) {
      this.#jwksFailures.add(1, this.#base)
      span.setAttribute('coresdk.outcome', 'failed')
      span.setStatus({ code: SPAN_ERROR })
      throw error
    } finally {
      span.end()
    }
  }

  /** A request let through degraded: counted, and the start of a period of failing open if none is running. */
  failedOpen(): void {
    this.#failOpen.add(1, this.#base)
    this.#failingOpenSince ??= performance.now()
  }

  /** The store answered: a period of failing open, if one was running, ends and is measured. */
  reachable(): void {
    if (this.#failingOpenSince === null) return
    this.#failOpenDuration.record((performance.now() - this.#failingOpenSince) / 1000, this.#base)
    this.#failingOpenSince = null
  }

  /** A revocation heard from the store: the time from its timestamp to now. */
  revocationApplied(event: RevocationEvent): void {
    const lag = Math.max(0, Date.now() - event.at) / 1000
    this.#lag.record(lag, event.kind === 'user' ? this.#lagAttributes.user : this.#lagAttributes.session)
  }

  /** Stops reporting this client's counters (its `close()`). */
  close(): void {
    for (const remove of this.#callbacks.splice(0)) remove()
  }
}

/** The kind of a session store, for attributes: `memory`, `redis`, `postgres`, or `custom`. */
export function storeKindOf(store: object | undefined): string {
  if (store === undefined) return 'memory'
  const name = (store as { constructor?: { name?: unknown } }).constructor?.name
  const match = typeof name === 'string' ? /^(Memory|Redis|Postgres)SessionStore/.exec(name) : null
  return match ? match[1]!.toLowerCase() : 'custom'
}
