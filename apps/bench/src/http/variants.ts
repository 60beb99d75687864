/** The frameworks measured. */
export const FRAMEWORKS = ['express', 'fastify', 'hono', 'nestjs', 'nestjs-fastify'] as const
/** One framework. */
export type Framework = (typeof FRAMEWORKS)[number]

/**
 * What runs in front of `/api/me`. `empty` is a reference: one async middleware that does nothing. `coresdk-baseline`
 * is CoreSDK on the memory store as an earlier commit built it (`--baseline`), served by that commit's own bench.
 */
export const VARIANTS = [
  'bare',
  'empty',
  'coresdk-memory',
  'coresdk-per-route',
  'coresdk-baseline',
  'coresdk-redis',
  'coresdk-postgres',
  'coresdk-traced',
  'coresdk-otel',
  'coresdk-otel-nosdk',
  'usual',
] as const
/** One variant of an app. */
export type Variant = (typeof VARIANTS)[number]

/**
 * The telemetry variants (issue 17), on two frameworks only, which is enough to price the instrumentation:
 * - `coresdk-traced`: the OpenTelemetry SDK installed (tracer and meter providers, sampling on, spans batched to an
 *   exporter that drops them) and a span per request, as HTTP instrumentation makes; CoreSDK's telemetry off;
 * - `coresdk-otel`: the same with CoreSDK's `telemetry: { api }`;
 * - `coresdk-otel-nosdk`: CoreSDK's `telemetry: { api }` with no SDK installed (the API's no-op providers).
 */
export const TELEMETRY_VARIANTS: readonly Variant[] = ['coresdk-traced', 'coresdk-otel', 'coresdk-otel-nosdk']
/** The frameworks the telemetry variants run on. */
export const TELEMETRY_FRAMEWORKS: readonly Framework[] = ['express', 'fastify']

/**
 * `coresdk-per-route`: CoreSDK on the memory store, authenticating in the route's handler rather than in a middleware
 * before it (`withCoreSdk`), on the framework whose middleware chain costs more than CoreSDK's own work.
 */
export const PER_ROUTE_FRAMEWORKS: readonly Framework[] = ['hono']

/** The variants measured for a framework, out of those asked for. */
export function variantsFor(framework: Framework, variants: readonly Variant[]): Variant[] {
  return variants.filter(
    (v) =>
      (!TELEMETRY_VARIANTS.includes(v) || TELEMETRY_FRAMEWORKS.includes(framework)) &&
      (v !== 'coresdk-per-route' || PER_ROUTE_FRAMEWORKS.includes(framework)),
  )
}

/** The framework's usual JWT middleware, as the report names it. */
export const USUAL_MIDDLEWARE: Record<Framework, string> = {
  express: 'express-jwt',
  fastify: '@fastify/jwt',
  hono: 'hono/jwk',
  nestjs: '@nestjs/jwt guard',
  'nestjs-fastify': '@nestjs/jwt guard',
}

/** The framework's display name. */
export const FRAMEWORK_NAME: Record<Framework, string> = {
  express: 'Express',
  fastify: 'Fastify',
  hono: 'Hono (@hono/node-server)',
  nestjs: 'Nest (platform-express)',
  'nestjs-fastify': 'Nest (platform-fastify)',
}

/** The variant's display name for a framework. */
export function variantName(framework: Framework, variant: Variant): string {
  switch (variant) {
    case 'bare':
      return 'bare'
    case 'empty':
      return 'bare + an empty async middleware (reference)'
    case 'coresdk-memory':
      return 'CoreSDK, memory store'
    case 'coresdk-per-route':
      return 'CoreSDK, memory store, authenticating in the route handler (withCoreSdk, no middleware)'
    case 'coresdk-baseline':
      return 'CoreSDK before the one pipeline, memory store (baseline commit)'
    case 'coresdk-redis':
      return 'CoreSDK, Redis store'
    case 'coresdk-postgres':
      return 'CoreSDK, PostgreSQL store'
    case 'coresdk-traced':
      return 'CoreSDK, memory store; OpenTelemetry SDK and a span per request, CoreSDK telemetry off'
    case 'coresdk-otel':
      return 'CoreSDK, memory store; OpenTelemetry SDK and a span per request, CoreSDK telemetry on'
    case 'coresdk-otel-nosdk':
      return 'CoreSDK, memory store; CoreSDK telemetry on, no OpenTelemetry SDK installed'
    case 'usual':
      return USUAL_MIDDLEWARE[framework]
  }
}
