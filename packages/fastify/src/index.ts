import type { Claims, CoreSDKClient, Session } from '@coresdk/core'
import { CoreSDKError } from '@coresdk/core'
import type * as Core from '@coresdk/core/adapter'
import { createAdapterKit, defineAdapter, nodeRequest, nodeRouteRequest } from '@coresdk/core/adapter'
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  RouteShorthandOptionsWithHandler,
} from 'fastify'
import fp from 'fastify-plugin'

/** Per-route settings, under the route's `config: { coresdk: { public, optional, roles } }`. A route with roles is never public. */
export type CoreSdkRouteConfig = Core.AdapterRoute

declare module 'fastify' {
  interface FastifyRequest {
    /** What CoreSDK found on this request: user, session, degraded, and the client. */
    coresdk: Core.RequestAuth | null
    /** The verified claims of the caller, or null when anonymous (optional authentication, public route). */
    readonly coresdk_user: Claims | null
    /** The caller's session; null when anonymous or when the store was unreachable (`failMode: 'open'`). */
    readonly coresdk_session: Session | null
    /** True when the request passed without the session check because the store was unreachable. */
    readonly coresdk_degraded: boolean
  }
  interface FastifyContextConfig {
    /** CoreSDK settings for this route. */
    coresdk?: CoreSdkRouteConfig
  }
}

/** Options of {@link coreSdkPlugin}: the client, and `optional`, `publicPaths`, `allowedOrigins`. */
export interface CoreSdkPluginOptions extends Core.AdapterKitOptions {
  /** The client that authenticates requests. */
  sdk: CoreSDKClient
}

// Callback hooks, returning nothing (a reply is a thenable), so that a warm request goes on in the same turn.
type Done = (error?: Error) => void

const adapter = defineAdapter<FastifyRequest, FastifyReply, Done, void, onRequestHookHandler>({
  setup: 'app.register(coreSdkPlugin, { sdk })',
  // Node's socket, not `request.ip`: which proxies may name the client is core's `trustProxy` setting.
  request: (request) => nodeRequest(request.raw),
  // onRequest comes before Fastify reads the body: the kit reads it, up to its limit.
  routeRequest: (request) => nodeRouteRequest(request.raw, request.protocol),
  auth: (request) => request.coresdk,
  pass(auth, request, _reply, done) {
    request.coresdk = auth
    done()
  },
  cookies(setCookie, _request, reply) {
    for (const cookie of setCookie) reply.header('set-cookie', cookie)
  },
  // Fastify adds each `set-cookie` value to those already set.
  write(answer, _request, reply) {
    reply.code(answer.status)
    for (const [name, value] of Object.entries(answer.headers))
      for (const one of Array.isArray(value) ? value : [value]) reply.header(name, one)
    // A Buffer keeps the content type as given (Fastify appends a charset to a string's); no body, no content type.
    reply.send(answer.body === '' ? undefined : Buffer.from(answer.body))
  },
  fail: (error, _request, _reply, done) => done(error as Error),
})

async function plugin(app: FastifyInstance, options: CoreSdkPluginOptions): Promise<void> {
  const kit = createAdapterKit(options.sdk, options)
  app.decorateRequest('coresdk', null)
  for (const name of ['coresdk_user', 'coresdk_session', 'coresdk_degraded'] as const) {
    const field = name.slice('coresdk_'.length) as 'user' | 'session' | 'degraded'
    app.decorateRequest(name, {
      getter(this: FastifyRequest) {
        return this.coresdk?.[field] ?? null
      },
    })
  }
  // Each route gets its own first onRequest hook, bound to its settings when it is declared: nothing is looked up per
  // request. onRequest runs before the body is read: a refused request never gets its body parsed.
  app.addHook('onRoute', (route) => {
    const settings = route.config?.coresdk ?? {}
    // Refused here when its role requirement names no role.
    const first: onRequestHookHandler = adapter.gate(settings, kit)
    const own = route.onRequest
    route.onRequest = own === undefined ? [first] : [first, ...(Array.isArray(own) ? own : [own])]
  })
}

/**
 * Authenticates every request (in `onRequest`), putting the result on `request.coresdk` (and `coresdk_user`, …).
 * @example
 * await app.register(coreSdkPlugin, { sdk, publicPaths: ['/health'] })
 */
export const coreSdkPlugin = fp(plugin, { name: '@coresdk/fastify', fastify: '5.x' })

/** An `onRequest` hook refusing anonymous requests with the 401 problem (on a public route, it authenticates first). */
export const requireAuth: () => onRequestHookHandler = adapter.requireAuth

/**
 * An `onRequest` hook letting a request through only with one of `roles` (or `{ anyOf, allOf }`): 401, else 403.
 * @example
 * app.get('/admin', { onRequest: requireRoles('admin') }, handler)
 */
export const requireRoles: Core.RequireRoles<onRequestHookHandler> = adapter.requireRoles

/**
 * For `app.setErrorHandler`: answers a `CoreSDKError` with core's problem, rethrows any other (the plugin is global).
 * @example
 * app.setErrorHandler(coreSdkErrorHandler)
 */
export function coreSdkErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!(err instanceof CoreSDKError)) throw err
  adapter.error(err, req, reply)
  return reply
}

/**
 * Revokes the current session (all the user's with `everywhere`; the others with `others`); the caller answers.
 * @example
 * app.post('/auth/logout', async (request, reply) => { await logout(request, reply); return reply.code(204).send() })
 */
export const logout: Core.AdapterLogout<FastifyRequest, FastifyReply> = adapter.logout

/**
 * Route options mounting a framework-neutral route (such as `@coresdk/oidc`'s login): it answers from `onRequest`.
 * @example
 * app.get('/auth/login', authRoute(routes.login))
 */
export function authRoute(handler: Core.RouteHandler): RouteShorthandOptionsWithHandler {
  return {
    // Public to the plugin: the handler reads what it needs.
    config: { coresdk: { public: true } },
    onRequest: adapter.authRoute(handler),
    // Never reached: onRequest always answers.
    handler: async (_request, reply) => reply.code(500).send(),
  }
}
