// A real OpenID provider for tests (oidc-provider, loaded only when one is started) and a browser to drive it.
import type { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'

/** A real oidc-provider on an ephemeral port, with the signing key the tests may also sign with. */
export interface TestOidcProvider {
  issuer: string
  /** The provider itself, for its events (`grant.success`, `grant.error`, …). */
  provider: EventEmitter
  privateJwk: JWK
  /**
   * Runs before each token-endpoint request reaches the provider (a slow provider, in the tests that need one);
   * resolving false drops the request unanswered.
   */
  beforeToken: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | null
  close(): Promise<void>
}

/** A client registered at the provider. */
export interface TestOidcClient {
  client_id: string
  client_secret: string
  redirect_uris: string[]
  post_logout_redirect_uris?: string[]
  backchannel_logout_uri?: string
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

/**
 * Starts oidc-provider (an optional peer dependency, loaded here) with dev interactions, back-channel logout,
 * refresh-token rotation and PKCE, on 127.0.0.1 and an ephemeral port.
 * @example
 * const provider = await startOidcProvider((issuer) => [{ client_id: 'app', client_secret: 's', redirect_uris: [`${app}/cb`] }])
 */
export async function startOidcProvider(
  clients: (issuer: string) => TestOidcClient[],
): Promise<TestOidcProvider> {
  const { default: Provider } = await import('oidc-provider')
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' }
  const server = createServer()
  const port = await listen(server)
  const issuer = `http://127.0.0.1:${port}`
  const provider = new Provider(issuer, {
    clients: clients(issuer).map((client) => ({
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      backchannel_logout_session_required: true,
      ...client,
    })),
    jwks: { keys: [privateJwk] },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.test`, email_verified: true, name: `User ${id}` }),
    }),
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 300,
      IdToken: 3600,
      RefreshToken: 86_400,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
    },
    // The provider refuses to call loopback addresses (SSRF protection); the app under test lives on one.
    fetch: (url, options) => {
      const { dispatcher: _ssrfGuard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown }
      return fetch(url, rest)
    },
  })
  // oidc-provider reports expected errors (bad grants in the negative tests) as events; keep the output clean.
  provider.on('server_error', () => {})
  const handler = provider.callback()
  const started: TestOidcProvider = {
    issuer,
    provider,
    privateJwk,
    beforeToken: null,
    close: () => close(server),
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const gate = req.url?.split('?')[0] === '/token' ? started.beforeToken : null
    if (gate === null) return void handler(req, res)
    gate(req, res).then((go) => {
      if (go) return handler(req, res)
      res.destroy()
    })
  })
  return started
}

/** A minimal browser: a cookie jar per host, manual redirects, and the provider's dev-interaction forms. */
export class TestBrowser {
  readonly #jar = new Map<string, Map<string, string>>()
  readonly #lines = new Map<string, string>()

  cookieHeader(url: string): string {
    const jar = this.#jar.get(new URL(url).host)
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : ''
  }

  setCookie(url: string, name: string, value: string): void {
    const host = new URL(url).host
    const jar = this.#jar.get(host) ?? new Map<string, string>()
    this.#jar.set(host, jar)
    jar.set(name, value)
  }

  cookie(url: string, name: string): string | undefined {
    return this.#jar.get(new URL(url).host)?.get(name)
  }

  /** The last `Set-Cookie` line this browser received for a cookie of this host, attributes included. */
  setCookieLine(url: string, name: string): string | undefined {
    return this.#lines.get(`${new URL(url).host} ${name}`)
  }

  #store(url: string, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = value === '' || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))
      this.#lines.set(`${new URL(url).host} ${name}`, line)
      const jar = this.#jar.get(new URL(url).host) ?? new Map<string, string>()
      this.#jar.set(new URL(url).host, jar)
      if (expired) jar.delete(name)
      else jar.set(name, value)
    }
  }

  /** One request with this browser's cookies; redirects are not followed. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = this.cookieHeader(url)
    if (cookie) headers.set('cookie', cookie)
    headers.set(
      'user-agent',
      headers.get('user-agent') ?? 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 TestBrowser',
    )
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.#store(url, response)
    return response
  }

  /**
   * Follows redirects from `url`, signing in as `login` and consenting on the provider's pages, until a redirect
   * leaves for `stopAt` (returned without being fetched) or a page without a known form is reached.
   */
  async navigate(
    url: string,
    { login = 'alice', stopAt }: { login?: string; stopAt?: string } = {},
  ): Promise<{ url: string; response?: Response }> {
    let next = url
    let init: RequestInit = {}
    for (let hop = 0; hop < 20; hop++) {
      if (stopAt && next.startsWith(stopAt)) return { url: next }
      const response = await this.fetch(next, init)
      init = {}
      const location = response.headers.get('location')
      if (response.status >= 300 && response.status < 400 && location) {
        next = new URL(location, next).href
        continue
      }
      const html = response.status === 200 ? await response.text() : ''
      const form =
        /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(html) ??
        /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html)
      if (!form?.[1]) return { url: next, response }
      const body = new URLSearchParams()
      for (const input of html.matchAll(
        /<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi,
      )) {
        body.set(input[1] as string, input[2] as string)
      }
      if (/name="login"/.test(html)) {
        body.set('login', login)
        body.set('password', 'any')
      }
      if (/name="logout"/.test(html)) body.set('logout', 'yes')
      next = new URL(form[1].replaceAll('&amp;', '&'), next).href
      init = { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
    }
    throw new Error('too many redirects')
  }
}
