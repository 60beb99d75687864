import { AsyncLocalStorage } from 'node:async_hooks'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import {
  type AuthenticateRequest,
  type Claims,
  CoreSDKClient,
  CoreSDKError,
  type EventActor,
  type HttpProblem,
  isEventActor,
  type LifecycleEvent,
  lifecycleEventTypes,
  MemorySessionStore,
  type SDKConfig,
  type TokenSet,
} from '@coresdk/core'
import { problemFor, problemFromError } from '@coresdk/core/adapter'
import { type AuditSink, type AuditTrail, createAuditTrail } from '@coresdk/core/audit'
import {
  SIDECAR_ACTOR_HEADER,
  SIDECAR_KEY_HEADER,
  SIDECAR_TENANT_HEADER,
  type SidecarRoute,
  sessionToWire,
  sidecarRoutes,
} from '@coresdk/core/sidecar-protocol'
import type { SessionStore } from '@coresdk/core/store'
import openapi from '../openapi.json' with { type: 'json' }
import { checkSecret, KeyRing, type TenantKey } from './access.ts'
import {
  badRequest,
  readJson,
  SIDECAR_REALM,
  SidecarProblem,
  sendJson,
  sendProblem,
  sidecarProblem,
} from './http.ts'
import { type SidecarLogger, stdoutLogger } from './logger.ts'

/** Options of {@link createSidecarServer}. */
export interface SidecarServerOptions {
  /** A ready client (embedded mode) for a single-tenant sidecar. The server does not close it. */
  sdk?: CoreSDKClient
  /** The configuration the server builds its clients from (one per tenant), when `sdk` is not given; mode is forced to embedded. */
  config?: SDKConfig
  /** The session store every tenant's client shares, closed by `close()`. @default config.sessions.store, else a MemorySessionStore */
  store?: SessionStore
  /** The address to listen on. @default '127.0.0.1' */
  host?: string
  /** The port; 0 picks a free one. @default 7233 */
  port?: number
  /**
   * The shared secret (at least 32 bytes) callers send in `x-coresdk-sidecar-key`; it serves the client's own tenant.
   * The sidecar is never keyless: without `secret` or `tenants` it refuses to start.
   */
  secret?: string
  /** One secret per tenant: a caller's tenant is the one whose secret it presents. */
  tenants?: readonly TenantKey[]
  /**
   * Serve `GET /v1/sessions/{id}/tokens`, which returns a session's decrypted OAuth tokens. Off, it answers 403
   * `forbidden`: every other route works without handing tokens out. Env: `CORESDK_SIDECAR_EXPOSE_TOKENS`. @default false
   */
  exposeTokens?: boolean
  /** Receives one structured entry per request and lifecycle event; false silences it. @default JSON lines on stdout */
  logger?: SidecarLogger | false
  /** The largest request body, in bytes. @default 65536 */
  bodyLimit?: number
  /** How long `close()` lets in-flight requests finish before cutting connections, in ms. @default 10000 */
  shutdownTimeout?: number
  /**
   * The audit trail of every tenant's sessions (created, refreshed, revoked, revoke-all), into this sink; `close()`
   * flushes and closes it. A failing sink is logged (`audit sink failed`, a code and a count) and never fails a
   * request. Env: `CORESDK_AUDIT_FILE` or `CORESDK_AUDIT_REDIS_STREAM`. @default none
   */
  audit?: { sink: AuditSink }
}

/** A sidecar server, not yet listening. */
export interface SidecarServer {
  /** Starts listening; resolves the base URL (`http://127.0.0.1:7233`). */
  listen(): Promise<string>
  /** Stops accepting, lets in-flight requests finish (up to `shutdownTimeout`), then closes the clients and the store. */
  close(): Promise<void>
  /** The base URL once listening. */
  readonly url: string
  /** The underlying Node server. */
  readonly server: Server
}

type Handler = (ctx: Context) => Promise<void>

interface Context {
  req: IncomingMessage
  res: ServerResponse
  sdk: CoreSDKClient
  params: Record<string, string>
  query: URLSearchParams
  body: () => Promise<Record<string, unknown>>
}

interface Route {
  method: string
  /** The path template, as `sidecarRoutes` and `openapi.json` name it (`/v1/sessions/{id}`); logged instead of the path. */
  pattern: string
  segments: string[]
  handler: Handler
}

/** The routes of the sidecar itself, not of the protocol: probes and the API description. */
const ownRoutes = {
  health: { method: 'GET', path: '/healthz' },
  ready: { method: 'GET', path: '/readyz' },
  openapi: { method: 'GET', path: '/openapi.json' },
} as const satisfies Record<string, SidecarRoute>

const DEFAULT_PORT = 7233
// Any valid id will do: readiness only asks the store a question it must answer in time.
const PROBE_ID = 'sess_00000000000000000000000000'

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const value = body[name]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') throw badRequest(`"${name}" must be a string.`)
  return value
}

function headerValue(body: Record<string, unknown>, name: string): string | string[] | null {
  const value = body[name]
  if (value === undefined || value === null) return null
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
  throw badRequest(`"${name}" must be a string or an array of strings.`)
}

/** Who asks, from the actor header: `service` without one. */
function actorOf(req: IncomingMessage): EventActor {
  const value = req.headers[SIDECAR_ACTOR_HEADER]
  if (value === undefined) return 'service'
  if (!isEventActor(value))
    throw badRequest(`${SIDECAR_ACTOR_HEADER} accepts user, admin, idp, service or system.`)
  return value
}

/** A problem with the changes its call made before it failed (a refused refresh token revokes the session). */
function withEvents(problem: HttpProblem, events: LifecycleEvent[]): HttpProblem {
  return events.length === 0
    ? problem
    : { ...problem, body: { ...problem.body, events } as HttpProblem['body'] }
}

const notFound = () => new SidecarProblem(problemFor('session_not_found', { realm: SIDECAR_REALM }))

/**
 * Creates the CoreSDK sidecar: the embedded engine behind a small HTTP/JSON API (see `openapi.json`), for services
 * that run the SDK in sidecar mode, and for the `coresdk` admin CLI.
 * @example
 * const sidecar = createSidecarServer({ config: { jwt: { issuer, audience, algorithms: ['RS256'], jwksUri } } })
 * await sidecar.listen() // http://127.0.0.1:7233
 * process.once('SIGTERM', () => sidecar.close())
 */
export function createSidecarServer(options: SidecarServerOptions = {}): SidecarServer {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK sidecar: CORESDK_SIDECAR_PORT (port) is invalid; it accepts an integer from 0 to 65535.',
    )
  }
  const log: SidecarLogger = options.logger === false ? () => {} : (options.logger ?? stdoutLogger)
  const bodyLimit = options.bodyLimit ?? 65_536
  const shutdownTimeout = options.shutdownTimeout ?? 10_000

  // The clients: one given, or one per tenant over one shared store.
  let store: SessionStore | undefined
  const clients = new Map<string, CoreSDKClient>()
  let defaultTenant: string
  if (options.sdk) {
    if (options.sdk.config.mode !== 'embedded') {
      throw new CoreSDKError(
        'invalid_config',
        'CoreSDK sidecar: the sidecar runs the embedded engine; give it a client with mode "embedded".',
      )
    }
    defaultTenant = options.sdk.config.tenantId
    clients.set(defaultTenant, options.sdk)
    if (options.tenants?.some((t) => t.tenantId !== defaultTenant)) {
      throw new CoreSDKError(
        'invalid_config',
        'CoreSDK sidecar: with several tenants, give `config`, not a single `sdk`.',
      )
    }
  } else {
    const config = options.config ?? {}
    const given = options.store ?? config.sessions?.store
    store = given ?? new MemorySessionStore()
    // Every tenant's client seals tokens into the one store: they share a key. Only a store of this process's own (in
    // memory) may use a random one; a shared store needs CORESDK_SESSION_ENCRYPTION_KEY, which the clients ask for.
    const keyed =
      config.sessions?.encryptionKey !== undefined ||
      (config.env ?? process.env).CORESDK_SESSION_ENCRYPTION_KEY !== undefined
    const local = given === undefined || given instanceof MemorySessionStore
    const encryptionKey = keyed || !local ? undefined : crypto.getRandomValues(new Uint8Array(32))
    const build = (tenantId?: string) =>
      new CoreSDKClient({
        ...config,
        ...(tenantId === undefined ? {} : { tenantId }),
        mode: 'embedded',
        sessions: { ...config.sessions, store, ...(encryptionKey === undefined ? {} : { encryptionKey }) },
      })
    const first = build()
    defaultTenant = first.config.tenantId
    clients.set(defaultTenant, first)
    for (const { tenantId } of options.tenants ?? [])
      if (!clients.has(tenantId)) clients.set(tenantId, build(tenantId))
  }

  const keys: TenantKey[] = [...(options.tenants ?? [])]
  if (options.secret !== undefined) {
    checkSecret('CORESDK_SIDECAR_SECRET (secret)', options.secret)
    const clash = keys.find((k) => k.tenantId === defaultTenant)
    if (clash && clash.secret !== options.secret) {
      throw new CoreSDKError(
        'invalid_config',
        `CoreSDK sidecar: tenant "${defaultTenant}" has two secrets (CORESDK_SIDECAR_SECRET and CORESDK_SIDECAR_TENANTS); keep one.`,
      )
    }
    if (!clash) keys.push({ tenantId: defaultTenant, secret: options.secret })
  }
  const ring = new KeyRing(keys)
  // Never keyless, loopback included: any local process (or a browser page a DNS name points at 127.0.0.1) could
  // otherwise read and revoke every session.
  if (!ring.enabled) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK sidecar: refusing to start without a secret. Set CORESDK_SIDECAR_SECRET (at least 32 bytes, e.g. `openssl rand -base64 32`) or CORESDK_SIDECAR_TENANTS (CORESDK_SIDECAR_TENANTS_FILE), and give the same secret to its clients.',
    )
  }
  const exposeTokens = options.exposeTokens === true

  // The lifecycle events each request's call made, gathered per request and sent back with its answer, so that the
  // client that asked reports them as its own (in sidecar mode as in embedded mode).
  const relay = new AsyncLocalStorage<LifecycleEvent[]>()
  const stopRelay: Array<() => void> = []
  for (const client of clients.values())
    for (const type of lifecycleEventTypes)
      stopRelay.push(client.on(type, (event: LifecycleEvent) => relay.getStore()?.push(event)))
  const trail: AuditTrail | null =
    options.audit === undefined
      ? null
      : createAuditTrail([...clients.values()], {
          sink: options.audit.sink,
          onError: ({ code, lost }) => log({ level: 'error', msg: 'audit sink failed', code, lost }),
        })
  const reply = (res: ServerResponse, status: number, body: object) => {
    const events = relay.getStore()
    sendJson(res, status, events !== undefined && events.length > 0 ? { ...body, events } : body)
  }

  const routes: Route[] = []
  const route = ({ method, path }: SidecarRoute, handler: Handler) =>
    routes.push({ method, pattern: path, segments: path.split('/').slice(1), handler })

  // Every operation of the protocol, each with its handler: the type makes a missing one a compile error.
  const operations: { [Name in keyof typeof sidecarRoutes]: Handler } = {
    authorize: async ({ sdk, res, body }) => {
      const token = optionalString(await body(), 'token')
      reply(res, 200, await sdk.auth().authorize({ token }))
    },

    authenticate: async ({ sdk, res, body }) => {
      const input = await body()
      const optional = input.optional
      if (optional !== undefined && optional !== null && typeof optional !== 'boolean')
        throw badRequest('"optional" must be a boolean.')
      const request: AuthenticateRequest = {
        authorization: headerValue(input, 'authorization'),
        cookie: headerValue(input, 'cookie'),
        userAgent: optionalString(input, 'userAgent'),
        // The client's address as the service resolved it (its trusted proxies); validated again here.
        remoteAddress: optionalString(input, 'clientAddress'),
      }
      const result = await sdk.authenticate(request, { optional: optional === true })
      if (!result.ok) return reply(res, 200, result)
      reply(res, 200, {
        ...result,
        session: result.session === null ? null : sessionToWire(result.session),
      })
    },

    logout: async ({ sdk, res, body }) => {
      const input = await body()
      const sessionId = optionalString(input, 'sessionId')
      const userId = optionalString(input, 'userId')
      const everywhere = input.everywhere === true
      if (everywhere && !userId) throw badRequest('"everywhere" needs "userId".')
      const session = sessionId === null ? null : await sdk.sessions().get(sessionId)
      const user = userId === null ? null : ({ sub: userId } as Claims)
      const result = await sdk.logout({ session, user, everywhere, degraded: input.degraded === true })
      reply(res, 200, { ...result, at: Date.now() })
    },

    createSession: async ({ sdk, res, body }) => {
      const input = await body()
      const tokenSet = input.tokenSet
      if (tokenSet === null || typeof tokenSet !== 'object' || Array.isArray(tokenSet))
        throw badRequest('"tokenSet" must be an OAuth token set object.')
      const meta = input.meta ?? {}
      if (
        meta === null ||
        typeof meta !== 'object' ||
        Object.values(meta).some((v) => typeof v !== 'string')
      ) {
        throw badRequest('"meta" must be an object of strings.')
      }
      const persistent = input.persistent ?? undefined
      if (persistent !== undefined && typeof persistent !== 'boolean')
        throw badRequest('"persistent" must be a boolean.')
      const created = await sdk.sessions().create(tokenSet as TokenSet, {
        userAgent: optionalString(input, 'userAgent'),
        remoteAddress: optionalString(input, 'clientAddress'),
        meta: meta as Record<string, string>,
        ...(persistent === undefined ? {} : { persistent }),
      })
      // The secret is shown this once, to the service that will set the cookie; it is never logged.
      reply(res, 201, {
        session: sessionToWire(created),
        secret: created.secret,
        setCookie: created.setCookie,
      })
    },

    getSession: async ({ sdk, res, params }) => {
      const session = await sdk.sessions().get(params.id!)
      if (!session) throw notFound()
      reply(res, 200, sessionToWire(session))
    },

    refresh: async ({ sdk, res, params }) => {
      reply(res, 200, sessionToWire(await sdk.sessions().refresh(params.id!)))
    },

    tokens: async ({ sdk, res, params }) => {
      if (!exposeTokens) {
        throw sidecarProblem(
          403,
          'forbidden',
          'Forbidden',
          'This sidecar does not hand out session tokens; start it with CORESDK_SIDECAR_EXPOSE_TOKENS=1 to allow it.',
        )
      }
      const tokens = await sdk.sessions().getTokens(params.id!)
      if (!tokens) throw notFound()
      reply(res, 200, { tokens })
    },

    revokeSession: async ({ sdk, req, res, params }) => {
      if (!(await sdk.sessions().revoke(params.id!, { actor: actorOf(req) }))) throw notFound()
      // The revoked session goes back with its key, so the caller remembers the revocation while we are away.
      const session = await sdk.sessions().get(params.id!)
      reply(res, 200, { revoked: true, session: session === null ? null : sessionToWire(session) })
    },

    revokeAll: async ({ sdk, req, res, params }) => {
      // Read before the revoke: the client's memory of the cutoff is never later than the store's.
      const at = Date.now()
      const revoked = await sdk.sessions().revokeAllForUser(params.userId!, { actor: actorOf(req) })
      reply(res, 200, { revoked, at })
    },

    revokeOthers: async ({ sdk, req, res, params, body }) => {
      const keep = optionalString(await body(), 'keepSessionId')
      if (keep === null) throw badRequest('"keepSessionId" must be a session id.')
      const userId = params.userId!
      const revoked = await sdk.sessions().revokeOthersForUser(userId, keep, { actor: actorOf(req) })
      // The ids, as the call's own event names them.
      const event = relay
        .getStore()
        ?.find((e) => e.type === 'user.sessions_revoked' && e.scope === 'others' && e.userId === userId)
      const sessionIds = event?.type === 'user.sessions_revoked' ? event.sessionIds : []
      reply(res, 200, { revoked, sessionIds })
    },

    userSessions: async ({ sdk, res, params, query }) => {
      const includeInactive = query.get('includeInactive') === 'true'
      const sessions = await sdk.sessions().listForUser(params.userId!, { includeInactive })
      reply(res, 200, { sessions: sessions.map(sessionToWire) })
    },

    providerSession: async ({ sdk, res, params }) => {
      const session = await sdk.sessions().findByProviderSession(params.sid!)
      if (!session) throw notFound()
      reply(res, 200, sessionToWire(session))
    },

    claimOnce: async ({ sdk, res, body }) => {
      const input = await body()
      if (typeof input.key !== 'string') throw badRequest('"key" must be a string.')
      if (typeof input.expiresAt !== 'number')
        throw badRequest('"expiresAt" must be a number (ms since the epoch).')
      reply(res, 200, { claimed: await sdk.sessions().claimOnce(input.key, input.expiresAt) })
    },
  }
  for (const name of Object.keys(sidecarRoutes) as Array<keyof typeof sidecarRoutes>)
    route(sidecarRoutes[name], operations[name])

  // What a caller without the key may ask: whether the process runs, and whether it is ready. Both answer a fixed
  // body and nothing about sessions; the API description and every other path, unknown ones included, need the key.
  const PUBLIC = new Set<string>([ownRoutes.health.path, ownRoutes.ready.path])
  let draining = false

  route(ownRoutes.health, async ({ res }) => sendJson(res, 200, { status: 'ok' }))

  route(ownRoutes.ready, async ({ res }) => {
    if (draining) throw new SidecarProblem(problemFor('sidecar_unavailable', { realm: SIDECAR_REALM }))
    // Through the engine, so the probe has the same deadline as every store call.
    await clients.get(defaultTenant)!.sessions().get(PROBE_ID)
    sendJson(res, 200, { status: 'ready' })
  })

  route(ownRoutes.openapi, async ({ res }) => sendJson(res, 200, openapi))

  const match = (
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | { allow: string[] } | null => {
    const parts = path.split('/').slice(1)
    const allow: string[] = []
    for (const candidate of routes) {
      if (candidate.segments.length !== parts.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < parts.length && ok; i++) {
        const segment = candidate.segments[i]!
        if (segment.startsWith('{')) {
          let value: string
          try {
            value = decodeURIComponent(parts[i]!)
          } catch {
            throw badRequest('The path is not valid percent-encoding.')
          }
          if (value === '') ok = false
          else params[segment.slice(1, -1)] = value
        } else if (segment !== parts[i]) ok = false
      }
      if (!ok) continue
      if (candidate.method === method) return { route: candidate, params }
      allow.push(candidate.method)
    }
    return allow.length > 0 ? { allow } : null
  }

  /** The caller's tenant: the one whose key it presents. */
  const tenantOf = (req: IncomingMessage): string => {
    const presented = req.headers[SIDECAR_KEY_HEADER]
    const tenant = typeof presented === 'string' && presented !== '' ? ring.match(presented) : null
    if (tenant === null) {
      throw sidecarProblem(
        401,
        'sidecar_unauthorized',
        'Unauthorized',
        `Send the sidecar secret in the ${SIDECAR_KEY_HEADER} header.`,
        { 'www-authenticate': `${SIDECAR_KEY_HEADER} realm="${SIDECAR_REALM}"` },
      )
    }
    const asked = req.headers[SIDECAR_TENANT_HEADER]
    if (asked !== undefined && asked !== tenant) {
      throw sidecarProblem(
        403,
        'tenant_forbidden',
        'Forbidden',
        'The sidecar key presented does not serve the tenant named in the request.',
      )
    }
    return tenant
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now()
    const events: LifecycleEvent[] = []
    let routeName = 'unmatched'
    let tenant: string | undefined
    res.on('finish', () => {
      const entry: Record<string, unknown> = {
        level: res.statusCode >= 500 ? 'error' : 'info',
        msg: 'request',
        method: req.method,
        route: routeName,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      }
      if (tenant !== undefined) entry.tenant = tenant
      log(entry)
    })
    if (draining) res.setHeader('connection', 'close')
    try {
      const url = new URL(req.url ?? '/', 'http://sidecar')
      // A browser never has a reason to call the sidecar: refusing any Origin stops cross-site requests outright.
      if (req.headers.origin !== undefined) {
        throw sidecarProblem(
          403,
          'forbidden_origin',
          'Forbidden',
          'The sidecar does not answer browser requests.',
        )
      }
      // The key first: without it, no route answers, and not even whether a path exists.
      const open = PUBLIC.has(url.pathname)
      if (!open) tenant = tenantOf(req)
      const found = match(req.method ?? 'GET', url.pathname)
      if (found === null) throw sidecarProblem(404, 'not_found', 'Not found', 'No such endpoint.')
      if ('allow' in found) {
        throw sidecarProblem(
          405,
          'method_not_allowed',
          'Method not allowed',
          'This endpoint does not take this method.',
          {
            allow: found.allow.join(', '),
          },
        )
      }
      routeName = found.route.pattern
      if (draining && !open)
        throw new SidecarProblem(problemFor('sidecar_unavailable', { realm: SIDECAR_REALM }))
      const sdk = clients.get(tenant ?? defaultTenant)!
      const route = found.route
      await relay.run(events, () =>
        route.handler({
          req,
          res,
          sdk,
          params: found.params,
          query: url.searchParams,
          body: () => readJson(req, bodyLimit),
        }),
      )
    } catch (error) {
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (error instanceof SidecarProblem) return sendProblem(res, withEvents(error.problem, events))
      const failure = CoreSDKError.from(error)
      // The code only: a message or a library's error text could carry more than a log should.
      if (failure.code === 'internal_error')
        log({ level: 'error', msg: 'handler failed', route: routeName, code: failure.code })
      sendProblem(res, withEvents(problemFromError(failure, { realm: SIDECAR_REALM }), events))
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res)
  })
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  let url = ''
  let closing: Promise<void> | undefined

  return {
    server,
    get url() {
      return url
    },
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          const address = server.address()
          const bound = typeof address === 'object' && address !== null ? address.port : port
          const shown = host.includes(':') ? `[${host}]` : host
          url = `http://${shown}:${bound}`
          log({
            level: 'info',
            msg: 'listening',
            url,
            tenants: [...clients.keys()],
            exposeTokens,
          })
          resolve(url)
        })
      })
    },
    close() {
      closing ??= (async () => {
        draining = true
        log({ level: 'info', msg: 'shutting down' })
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            for (const socket of sockets) socket.destroy()
          }, shutdownTimeout)
          timer.unref()
          if (!server.listening) {
            clearTimeout(timer)
            return resolve()
          }
          // close() stops accepting and waits for in-flight requests; idle keep-alive connections are closed now.
          server.close(() => {
            clearTimeout(timer)
            resolve()
          })
          server.closeIdleConnections()
        })
        for (const stop of stopRelay) stop()
        await trail?.close()
        if (!options.sdk) for (const client of clients.values()) await client.close()
        await store?.close?.()
        log({ level: 'info', msg: 'stopped' })
      })()
      return closing
    },
  }
}
