import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider'
import { escapeHtml, page } from './html.ts'

/** The demo's one registered client. */
export interface DemoClient {
  clientId: string
  clientSecret: string
  redirectUri: string
  postLogoutRedirectUri: string
  backchannelLogoutUri: string
}

/** The demo's API as a resource server of the provider: access tokens for it are JWTs with this audience. */
export interface DemoApi {
  /** The resource indicator and `aud` of its access tokens: the API's identifier, never the client id. */
  audience: string
  /** The scope a client asks for to call it. */
  scope: string
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,31}$/

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > 4096) req.destroy()
    })
    req.on('end', () => resolve(new URLSearchParams(body)))
    req.on('error', reject)
  })
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(body)
}

function loginPage(uid: string, error?: string): string {
  return page({
    title: 'Sign in · Demo Provider',
    heading: 'Demo Provider',
    body: `<h1>Sign in</h1>
      <p class="muted">A local OpenID provider for the demo. Any username signs you in; there is no password.</p>
      ${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
      <form method="post" action="/interaction/${escapeHtml(uid)}/login" class="stack">
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" autofocus required placeholder="e.g. alice">
        <button type="submit">Sign in</button>
      </form>`,
  })
}

/**
 * Starts a local OpenID provider (oidc-provider, in memory) on a listening server: a plain login page where any
 * username signs in, consent granted automatically, refresh-token rotation, back-channel and RP-initiated logout,
 * and JWT access tokens (RFC 9068, `typ: at+jwt`) for one API, by resource indicator (RFC 8707).
 */
export async function attachProvider(
  server: Server,
  issuer: string,
  client: DemoClient,
  api: DemoApi,
): Promise<Provider> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'demo-key', alg: 'RS256', use: 'sig' }

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: [client.redirectUri],
        post_logout_redirect_uris: [client.postLogoutRedirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        backchannel_logout_uri: client.backchannelLogoutUri,
        backchannel_logout_session_required: true,
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({
        sub: id,
        email: `${id}@example.test`,
        email_verified: true,
        name: id.charAt(0).toUpperCase() + id.slice(1),
        preferred_username: id,
      }),
    }),
    // Put the profile and email claims in the ID token (as most providers do), so the session carries them.
    conformIdTokenClaims: false,
    // The provider session in the access token too (as Keycloak and Auth0 do): a request to the API with it maps to
    // the session of that login, and a back-channel logout of that provider session ends it.
    extraTokenClaims: (_ctx, token) =>
      token.kind === 'AccessToken' && token.sid ? { sid: token.sid } : undefined,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      // Access tokens are for the API, not for the client: their audience is the API's identifier, their format a
      // JWT the API verifies. Without a resource asked for, the API is the default one.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => api.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== api.audience) throw new errors.InvalidTarget()
          return {
            scope: api.scope,
            audience: api.audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 300,
            jwt: { sign: { alg: 'RS256' } },
          }
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = page({
            title: 'Sign out · Demo Provider',
            heading: 'Demo Provider',
            body: `${form}<h1>Sign out</h1><p>Sign out of the Demo Provider as well?</p>
              <div class="row">
                <button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
                <button type="submit" form="op.logoutForm" class="secondary">No, stay signed in here</button>
              </div>`,
          })
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.body = page({
            title: 'Signed out',
            heading: 'Demo Provider',
            body: '<p>You are signed out.</p>',
          })
        },
      },
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
    renderError: async (ctx, out) => {
      ctx.type = 'html'
      ctx.body = page({
        title: 'Error · Demo Provider',
        heading: 'Demo Provider',
        body: `<p class="error">${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ''))}</p>`,
      })
    },
    // oidc-provider refuses to call loopback addresses (SSRF protection); the demo app's back-channel URL is one.
    fetch: (url, options) => {
      const { dispatcher: _ssrfGuard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown }
      return fetch(url, rest)
    },
  })

  const callback = provider.callback()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(new URL(req.url ?? '/', issuer).pathname)
    if (!match) return void callback(req, res)
    interaction(req, res, Boolean(match[2])).catch(() =>
      html(
        res,
        400,
        page({
          title: 'Error',
          heading: 'Demo Provider',
          body: '<p class="error">This sign-in has expired. Go back to the app and start again.</p>',
        }),
      ),
    )
  })

  async function interaction(req: IncomingMessage, res: ServerResponse, submitted: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res)
    const { uid, prompt, params, session } = details
    if (prompt.name === 'login') {
      if (!submitted) return html(res, 200, loginPage(uid))
      const username = ((await readForm(req)).get('username') ?? '').trim().toLowerCase()
      if (!USERNAME.test(username))
        return html(res, 400, loginPage(uid, 'Use 1 to 32 letters, digits, ".", "_" or "-".'))
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: username } },
        { mergeWithLastSubmission: false },
      )
      return
    }
    // Consent: the demo's only client is first-party, so what it asks for is granted.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session?.accountId as string, clientId: params.client_id as string })
    if (!grant) throw new Error('grant not found')
    const missing = prompt.details as {
      missingOIDCScope?: string[]
      missingOIDCClaims?: string[]
      missingResourceScopes?: Record<string, string[]>
    }
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '))
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims)
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(' '))
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    )
  }

  return provider
}
