import type { Claims, CoreSDKClient, HttpProblem, LogoutResult, Session } from '@coresdk/core'
import {
  type AdapterKitOptions,
  type AdapterRoute,
  CoreSDKError,
  createAdapterKit,
  type HandleResult,
  type LogoutOptions,
  problemFromError,
  type RequestAuth,
  type RoleRequirement,
  type RouteHandler,
  roleRequirement,
  runAuthRoute,
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

function send(reply: FastifyReply, problem: HttpProblem, setCookie: readonly string[] = []): FastifyReply {
  for (const cookie of setCookie) reply.header('set-cookie', cookie)
  // A Buffer, because Fastify appends a charset to the content type of a string payload.
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .send(Buffer.from(JSON.stringify(problem.body)))
}

type Done = HookHandlerDoneFunction

function settle(request: FastifyRequest, reply: FastifyReply, result: HandleResult, done: Done): void {
  if (!result.next) return void send(reply, result.problem, result.setCookie)
  for (const cookie of result.setCookie) reply.header('set-cookie', cookie)
  request.coresdk = result.auth
  done()
}

/** A callback hook, so that a warm request (answered without a promise) goes on in the same turn. */
function gate(route: AdapterRoute): onRequestHookHandler {
  return (request, reply, done) => {
    const auth = request.coresdk
    if (!auth)
      return done(
        new CoreSDKError('invalid_config', 'CoreSDK: register coreSdkPlugin before this hook or helper.'),
      )
    const raw = {
      method: request.method,
      url: request.raw.url ?? '/',
      headers: request.raw.rawHeaders,
      // Node's socket, not `request.ip`: which proxies may name the client is core's `trustProxy` setting.
      remoteAddress: request.raw.socket.remoteAddress,
    }
    const result = auth.kit.handle(raw, route, auth)
    if (result instanceof Promise) result.then((r) => settle(request, reply, r, done), done)
    else settle(request, reply, result, done)
  }
}

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
    const check = gate(settings)
    const first: onRequestHookHandler = function (request, reply, done) {
      request.coresdk = kit.anonymous
      check.call(this, request, reply, done)
    }
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
  return gate({ optional: false })
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
  return gate({ roles: roleRequirement(args) })
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
  return send(reply, request.coresdk ? request.coresdk.kit.problemFor(error) : problemFromError(error))
}

/**
 * Revokes the current session (all the user's with `everywhere`) and clears the session cookie; with `others`, revokes
 * the user's other sessions and keeps this one. The caller answers.
 * @example
 * app.post('/auth/logout', async (request, reply) => { await logout(request, reply); return reply.code(204).send() })
 */
export async function logout(
  request: FastifyRequest,
  reply: FastifyReply,
  options: LogoutOptions = {},
): Promise<LogoutResult> {
  if (!request.coresdk)
    throw new CoreSDKError('invalid_config', 'CoreSDK: register coreSdkPlugin before calling logout().')
  const result = await request.coresdk.kit.logout(request.coresdk, options)
  for (const cookie of result.setCookie) reply.header('set-cookie', cookie)
  return result
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
    async onRequest(request, reply) {
      const route = { method: request.method, url: request.raw.url ?? '/', protocol: request.protocol }
      const input = {
        ...route,
        headers: request.headers,
        remoteAddress: request.raw.socket.remoteAddress,
        body: request.raw,
      }
      // Mounted without the plugin, the route still gets core's URL building and body limit.
      const answer = request.coresdk
        ? await request.coresdk.kit.route(handler, input)
        : await runAuthRoute(handler, input)
      reply.code(answer.status)
      // Fastify appends every `set-cookie` value to those already set (by coreSdkPlugin, say).
      for (const [name, value] of Object.entries(answer.headers))
        for (const one of Array.isArray(value) ? value : [value]) reply.header(name, one)
      // A Buffer keeps the content type as given (Fastify appends a charset to a string's); no body, no content type.
      return reply.send(answer.body === '' ? undefined : Buffer.from(answer.body))
    },
    // Never reached: onRequest always answers.
    handler: async (_request, reply) => reply.code(500).send(),
  }
}
