import type {
  Claims,
  CoreSDKClient,
  LogoutOptions,
  LogoutResult,
  RoleRequirement,
  Session,
} from '@coresdk/core'
import type {
  AdapterKitOptions,
  AdapterRoute,
  RequestAuth,
  RouteHandler,
  RouteResponse,
} from '@coresdk/core/adapter'
import {
  CoreSDKError,
  createAdapterKit,
  defineAdapter,
  nodeRequest,
  nodeRouteRequest,
  roleRequirement,
} from '@coresdk/core/adapter'
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  onRequestHookHandler,
  RouteShorthandOptionsWithHandler,
} from 'fastify'
import fp from 'fastify-plugin'

/** Per-route settings, under the route's `config: { coresdk: { public, optional, roles } }`. A route with roles is never public. */
export type CoreSdkRouteConfig = AdapterRoute

declare module 'fastify' {
  interface FastifyRequest {
    /** What CoreSDK found on this request: user, session, degraded, and the client. */
    coresdk: RequestAuth | null
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
export interface CoreSdkPluginOptions extends AdapterKitOptions {
  /** The client that authenticates requests. */
  sdk: CoreSDKClient
}

/** Writes core's answer as it is: Fastify adds each `set-cookie` value to those already set. */
function write(answer: RouteResponse, _request: FastifyRequest, reply: FastifyReply): void {
  reply.code(answer.status)
  for (const [name, value] of Object.entries(answer.headers))
    for (const one of Array.isArray(value) ? value : [value]) reply.header(name, one)
  // A Buffer keeps the content type as given (Fastify appends a charset to a string's); no body, no content type.
  reply.send(answer.body === '' ? undefined : Buffer.from(answer.body))
}

// Callback hooks, returning nothing (a reply is a thenable), so that a warm request goes on in the same turn.
const adapter = defineAdapter<FastifyRequest, FastifyReply, HookHandlerDoneFunction, void>({
  setup: 'app.register(coreSdkPlugin, { sdk })',
  // Node's socket, not `request.ip`: which proxies may name the client is core's `trustProxy` setting.
  request: (request) => nodeRequest(request.raw),
  auth: (request) => request.coresdk,
  pass(auth, request, _reply, done) {
    request.coresdk = auth
    done()
  },
  cookies(setCookie, _request, reply) {
    for (const cookie of setCookie) reply.header('set-cookie', cookie)
  },
  write,
  fail: (error, _request, _reply, done) => done(error as Error),
})

const plugin: FastifyPluginAsync<CoreSdkPluginOptions> = async (app, options) => {
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
    // A role requirement naming no role is a mistake in the app: refuse it when the route is declared.
    if (settings.roles !== undefined) roleRequirement([settings.roles])
    const first: onRequestHookHandler = adapter.gate(settings, kit)
    const own = route.onRequest
    route.onRequest = own === undefined ? [first] : [first, ...(Array.isArray(own) ? own : [own])]
  })
}

/**
 * Authenticates every request (in `onRequest`) and puts the result on `request.coresdk` (read through
 * `coresdk_user`, `coresdk_session`, `coresdk_degraded`); answers a refused request with its problem.
 * @example
 * await app.register(coreSdkPlugin, { sdk, publicPaths: ['/health'] })
 * app.get('/api/me', async (request) => ({ sub: request.coresdk_user?.sub }))
 */
export const coreSdkPlugin = fp(plugin, { name: '@coresdk/fastify', fastify: '5.x' })

/** An `onRequest` hook refusing anonymous requests with the 401 problem (on a public route, it authenticates first). */
export function requireAuth(): onRequestHookHandler {
  return adapter.gate({ optional: false })
}

/**
 * An `onRequest` hook letting a request through only with one of `roles` (or `{ anyOf, allOf }`): 401 when
 * anonymous, 403 `forbidden` without them. The same as the route's `config: { coresdk: { roles } }`.
 * @example
 * app.get('/admin', { onRequest: requireRoles('admin') }, handler)
 */
export function requireRoles(requirement: RoleRequirement): onRequestHookHandler
export function requireRoles(...roles: string[]): onRequestHookHandler
export function requireRoles(...args: [RoleRequirement] | string[]): onRequestHookHandler {
  return adapter.gate({ roles: roleRequirement(args) })
}

/**
 * An error handler for `app.setErrorHandler`: answers a `CoreSDKError` with core's problem; rethrows any other
 * error. The plugin does not set it itself: being global (`fastify-plugin`), it would take over the app's own.
 * @example
 * app.setErrorHandler(coreSdkErrorHandler)
 */
export function coreSdkErrorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (!(error instanceof CoreSDKError)) throw error
  adapter.error(error, request, reply)
  return reply
}

/**
 * Revokes the current session (all the user's with `everywhere`) and clears the session cookie; with `others`, revokes
 * the user's other sessions and keeps this one. The caller answers.
 * @example
 * app.post('/auth/logout', async (request, reply) => { await logout(request, reply); return reply.code(204).send() })
 */
export function logout(
  request: FastifyRequest,
  reply: FastifyReply,
  options: LogoutOptions = {},
): Promise<LogoutResult> {
  return adapter.logout(request, reply, options)
}

/**
 * Route options mounting a framework-neutral route (such as `@coresdk/oidc`'s login and callback): it answers from
 * `onRequest`, before Fastify parses the body, and is public to the plugin (the handler reads what it needs).
 * @example
 * app.get('/auth/login', authRoute(routes.login))
 */
export function authRoute(handler: RouteHandler): RouteShorthandOptionsWithHandler {
  return {
    config: { coresdk: { public: true } },
    onRequest: (request, reply) =>
      adapter.route(handler, nodeRouteRequest(request.raw, request.protocol), request, reply),
    // Never reached: onRequest always answers.
    handler: async (_request, reply) => reply.code(500).send(),
  }
}
