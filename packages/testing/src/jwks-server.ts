import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { TestKeys } from './mint.ts'

/** How a JWKS server fails when down: `error` answers 503, `hang` never answers, `refuse` closes its port. */
export type JwksDownMode = 'error' | 'hang' | 'refuse'

/** A public JWK as served. */
export type ServedJwk = { kty: string; kid?: string; [member: string]: unknown }

/** A key the server publishes: a public JWK, or keys from `createTestKeys` (their public JWK). */
export type JwksServerKey = ServedJwk | TestKeys

/** Options of {@link startJwksServer}. */
export interface JwksServerOptions {
  /** The keys served at first. @default [] */
  keys?: JwksServerKey[]
  /** The path of the JWK Set. @default '/.well-known/jwks.json' */
  path?: string
}

/** A local JWK Set endpoint on 127.0.0.1, with knobs for rotation, latency and outages. */
export interface JwksServer {
  /** The base URL, e.g. `http://127.0.0.1:54321`. */
  readonly url: string
  /** The JWK Set URL. */
  readonly jwksUrl: string
  readonly port: number
  /** How many requests reached the server (any path, while down too). */
  readonly requestCount: number
  /** The paths requested, in order. */
  readonly requests: readonly string[]
  /** Replaces every served key. */
  rotate(keys: JwksServerKey[]): void
  /** Adds a key to the set. */
  addKey(key: JwksServerKey): void
  /** Removes the keys with this `kid`. */
  removeKey(kid: string): void
  /** Delays every answer by `ms`. */
  setDelay(ms: number): void
  /** Takes the endpoint down (`true` means `'error'`: 503) or back up (`false`). */
  setDown(down: boolean | JwksDownMode): Promise<void>
  /** Resets `requestCount` and `requests`. */
  resetCount(): void
  /** Stops the server and drops every connection. */
  close(): Promise<void>
}

function isTestKeys(key: JwksServerKey): key is TestKeys {
  return 'signingKey' in key && 'publicJwk' in key
}

function toJwk(key: JwksServerKey): ServedJwk {
  if (!isTestKeys(key)) return key
  if (!key.publicJwk) throw new TypeError('an HMAC key has no public JWK to serve')
  return key.publicJwk
}

/**
 * Starts a JWK Set server on 127.0.0.1 (an ephemeral port).
 * @example
 * const keys = await createTestKeys('RS256')
 * const jwks = await startJwksServer({ keys: [keys] })
 * const sdk = new CoreSDKClient({ jwt: { jwksUri: jwks.jwksUrl, ... } })
 * await jwks.close()
 */
export async function startJwksServer(options: JwksServerOptions = {}): Promise<JwksServer> {
  const path = options.path ?? '/.well-known/jwks.json'
  let keys = (options.keys ?? []).map(toJwk)
  let delay = 0
  let down: JwksDownMode | null = null
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const pending = new Set<ReturnType<typeof setTimeout>>()
  const hanging = new Set<ServerResponse>()

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    requests.push(request.url ?? '')
    if (down === 'hang') {
      hanging.add(response)
      response.on('close', () => hanging.delete(response))
      return
    }
    const answer = (): void => {
      if (down === 'error') {
        response.writeHead(503, { 'content-type': 'text/plain' }).end('down')
      } else if (request.method === 'GET' && (request.url ?? '').split('?')[0] === path) {
        response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys }))
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      }
    }
    if (delay <= 0) {
      answer()
      return
    }
    const timer = setTimeout(() => {
      pending.delete(timer)
      answer()
    }, delay)
    pending.add(timer)
  }

  const server = createServer(handle)
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
      for (const socket of sockets) socket.destroy()
      if (!server.listening) return resolve()
      server.close(() => resolve())
    })

  await listen(0)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the JWKS server has no port')
  const port = address.port
  const url = `http://127.0.0.1:${port}`

  return {
    url,
    jwksUrl: `${url}${path}`,
    port,
    get requestCount() {
      return requests.length
    },
    get requests() {
      return [...requests]
    },
    rotate(next) {
      keys = next.map(toJwk)
    },
    addKey(key) {
      keys = [...keys, toJwk(key)]
    },
    removeKey(kid) {
      keys = keys.filter((key) => key.kid !== kid)
    },
    setDelay(ms) {
      delay = ms
    },
    async setDown(next) {
      const mode = next === true ? 'error' : next === false ? null : next
      const wasRefusing = down === 'refuse'
      down = mode
      if (mode === 'refuse' && !wasRefusing) await stop()
      if (mode !== 'refuse' && wasRefusing) await listen(port)
      if (mode !== 'hang') {
        // Requests left hanging by an earlier outage are cut, as a real server restart would.
        for (const response of hanging) response.socket?.destroy()
        hanging.clear()
      }
    },
    resetCount() {
      requests.length = 0
    },
    close: stop,
  }
}
