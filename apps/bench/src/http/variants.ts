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
  'coresdk-baseline',
  'coresdk-redis',
  'coresdk-postgres',
  'usual',
] as const
/** One variant of an app. */
export type Variant = (typeof VARIANTS)[number]

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
    case 'coresdk-baseline':
      return 'CoreSDK before the one pipeline, memory store (baseline commit)'
    case 'coresdk-redis':
      return 'CoreSDK, Redis store'
    case 'coresdk-postgres':
      return 'CoreSDK, PostgreSQL store'
    case 'usual':
      return USUAL_MIDDLEWARE[framework]
  }
}
