import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CoreSDKClient } from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'
import { createOidcClient, createOidcRefresher } from '@coresdk/oidc'
import { createDemoApp } from './app.ts'
import { attachProvider } from './provider.ts'

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** The web app's port; 0 picks a free one. @default 3000, or a free port when taken */
  appPort?: number
  /** The OpenID provider's port; 0 picks a free one. @default 3001, or a free port when taken */
  providerPort?: number
  /** Sessions in Redis at this URL; in memory when absent. @default process.env.REDIS_URL */
  redisUrl?: string | undefined
}

/** A running demo. */
export interface RunningDemo {
  /** Open this in a browser. */
  appUrl: string
  providerUrl: string
  /** Where sessions live: `memory` or `redis`. */
  store: 'memory' | 'redis'
  sdk: CoreSDKClient
  close(): Promise<void>
}

function listen(server: Server, port: number, fallback: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (fallback && error.code === 'EADDRINUSE') {
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
      } else reject(error)
    }
    server.once('error', onError)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

async function redisStore(url: string): Promise<{ store: SessionStore; close(): Promise<void> }> {
  const [{ Redis }, { createRedisSessionStore, redisClientOptions }] = await Promise.all([
    import('ioredis'),
    import('@coresdk/redis-store'),
  ])
  const client = new Redis(url, redisClientOptions())
  const store = createRedisSessionStore({ client })
  return {
    store,
    close: async () => {
      await store.close?.()
      client.disconnect()
    },
  }
}

/**
 * Starts the demo with no configuration: a local OpenID provider and the web app, on loopback ports.
 * The app's pages live at `http://localhost:<port>`, the provider at `http://127.0.0.1:<port>` (two hosts, so their
 * cookies stay apart).
 */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const appServer = createServer()
  const providerServer = createServer()
  const closers: Array<() => Promise<void>> = []
  try {
    const appPort = await listen(appServer, options.appPort ?? 3000, options.appPort === undefined)
    closers.push(() => closeServer(appServer))
    const providerPort = await listen(
      providerServer,
      options.providerPort ?? 3001,
      options.providerPort === undefined,
    )
    closers.push(() => closeServer(providerServer))
    const appUrl = `http://localhost:${appPort}`
    const issuer = `http://127.0.0.1:${providerPort}`
    const client = {
      clientId: 'coresdk-demo',
      clientSecret: randomBytes(24).toString('base64url'),
      redirectUri: `${appUrl}/auth/callback`,
      postLogoutRedirectUri: `${appUrl}/`,
      backchannelLogoutUri: `${appUrl}/auth/backchannel-logout`,
    }
    // The API's own identifier, apart from the client id: an ID token (aud = client id) is never a bearer token for it.
    const api = { audience: `${appUrl}/api`, scope: 'api' }
    await attachProvider(providerServer, issuer, client, api)

    const redisUrl = 'redisUrl' in options ? options.redisUrl : process.env.REDIS_URL
    const redis = redisUrl ? await redisStore(redisUrl) : null
    if (redis) closers.push(redis.close)

    const refresher = createOidcRefresher()
    const sdk = new CoreSDKClient({
      tenantId: 'demo',
      serviceName: 'coresdk-demo',
      jwt: {
        issuer,
        // Bearer tokens on /api: access tokens issued for the API (RFC 9068 JWTs, typ at+jwt).
        audience: api.audience,
        requiredType: 'at+jwt',
        // The ID token of a login, verified by sessions().create(): issued to the client.
        idTokenAudience: client.clientId,
        jwksUri: `${issuer}/jwks`,
        algorithms: ['RS256'],
      },
      sessions: {
        // Redis is a shared store: the tokens sealed in it need a key of their own (this process's, one run long).
        ...(redis ? { store: redis.store, encryptionKey: randomBytes(32) } : {}),
        tokenRefresher: refresher,
        // Secure cookies need https, except on localhost in Chromium and Firefox; plain http keeps every browser working.
        cookie: { secure: false },
      },
    })
    closers.unshift(() => sdk.close())
    const oidc = await createOidcClient({
      sdk,
      refresher,
      issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUri: client.redirectUri,
      postLogoutRedirectUri: client.postLogoutRedirectUri,
      scope: `openid profile email offline_access ${api.scope}`,
      // oidc-provider issues a refresh token (offline_access) only with an explicit consent prompt; the resource
      // asks for access tokens for the API.
      authorizationParams: { prompt: 'consent', resource: api.audience },
      cookieSecret: randomBytes(32),
      allowInsecureRequests: true,
    })
    appServer.on(
      'request',
      createDemoApp({
        sdk,
        oidc,
        baseUrl: appUrl,
        // The app calls its own API over HTTP, as any client would, on the address it listens on.
        apiUrl: `http://127.0.0.1:${appPort}/api`,
        apiAudience: api.audience,
        providerName: 'Demo Provider',
      }),
    )

    return {
      appUrl,
      providerUrl: issuer,
      store: redis ? 'redis' : 'memory',
      sdk,
      close: async () => {
        for (const close of closers.splice(0)) await close()
      },
    }
  } catch (error) {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {})
    if (!appServer.listening) appServer.close()
    throw error
  }
}
