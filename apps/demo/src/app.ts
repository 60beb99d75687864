import { type Claims, type CoreSDKClient, type Session } from '@coresdk/core'
import { coreSdkMiddleware, logout } from '@coresdk/express'
import {
  createOidcHandlers,
  type OidcClient,
  type OidcHttpRequest,
  type OidcHttpResponse,
} from '@coresdk/oidc'
import express, { type Request, type Response } from 'express'
import { escapeHtml, page } from './html.ts'

const NAV: Array<[string, string]> = [
  ['/profile', 'Profile'],
  ['/sessions', 'My sessions'],
  ['/api-call', 'Call the API'],
]
const TIME_CLAIMS = new Set(['iat', 'exp', 'nbf', 'auth_time'])

/** The glue every framework needs around the OIDC handlers: its request in, their answer out. */
function toOidcRequest(baseUrl: string, req: Request): OidcHttpRequest {
  return {
    url: new URL(req.originalUrl, baseUrl),
    method: req.method,
    headers: req.headers,
    body: req.body,
    // Recorded on the session a callback creates (forwarded headers count only from a proxy in `trustProxy`).
    remoteAddress: req.socket.remoteAddress,
  }
}

/** "Chrome 140 on Linux", from core's parse of the session's user agent. */
function describeDevice(session: Session): string {
  const { browser, os } = session
  if (browser === null) return os === null ? 'Unknown browser' : `Unknown browser on ${os}`
  return os === null ? browser : `${browser} on ${os}`
}

function send(res: Response, answer: OidcHttpResponse): void {
  res.status(answer.status)
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
  res.send(answer.body)
}

function formatTime(date: Date): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
}

function formatClaim(name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    return `<code>${value}</code> <span class="muted">${formatTime(new Date(value * 1000))}</span>`
  }
  return `<code>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</code>`
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text))
  } catch {
    return text
  }
}

function shell(res: Response, title: string, current: string, user: Claims, body: string): void {
  const name = typeof user.name === 'string' ? user.name : user.sub
  res.type('html').send(
    page({
      title: `${title} · CoreSDK demo`,
      heading: 'CoreSDK demo',
      nav: NAV,
      current,
      body,
      aside: `<span class="muted">${escapeHtml(name)}</span>
        <form class="inline" method="post" action="/auth/logout"><button class="secondary small" type="submit">Log out</button></form>`,
    }),
  )
}

/** Options of {@link createDemoApp}. */
export interface DemoAppOptions {
  sdk: CoreSDKClient
  oidc: OidcClient
  /** The app's public base URL, e.g. `http://localhost:3000`. */
  baseUrl: string
  /** Where the app calls its own JSON API, e.g. `http://127.0.0.1:3000/api`. */
  apiUrl: string
  /** The API's audience: what its access tokens carry in `aud`. */
  apiAudience: string
  /** The provider's display name on the login button. */
  providerName: string
}

/** The demo web app: login, profile, "My sessions" with revocation, and a small JSON API on @coresdk/express. */
export function createDemoApp({
  sdk,
  oidc,
  baseUrl,
  apiUrl,
  apiAudience,
  providerName,
}: DemoAppOptions): express.Express {
  const app = express()
  const routes = createOidcHandlers(oidc)
  app.disable('x-powered-by')
  app.use((_req, res, next) => {
    res.setHeader('cache-control', 'no-store')
    next()
  })

  /** The signed-in user of a page, or null; a dead cookie is cleared on the way. */
  async function signedIn(
    req: Request,
    res: Response,
  ): Promise<{ user: Claims; session: Session } | 'unavailable' | null> {
    const result = await sdk.authenticate(
      { cookie: req.headers.cookie, userAgent: req.headers['user-agent'] },
      { optional: true },
    )
    if (result.setCookie.length > 0) res.append('Set-Cookie', result.setCookie)
    if (!result.ok) return result.problem.status === 503 ? 'unavailable' : null
    return result.user && result.session ? { user: result.user, session: result.session } : null
  }

  async function guarded(req: Request, res: Response): Promise<{ user: Claims; session: Session } | null> {
    const who = await signedIn(req, res)
    if (who === 'unavailable') {
      res
        .status(503)
        .type('html')
        .send(
          page({
            title: 'Unavailable',
            heading: 'CoreSDK demo',
            body: '<p class="error">Sessions are unavailable right now. Retry in a moment.</p>',
          }),
        )
      return null
    }
    if (who === null) res.redirect(303, '/')
    return who
  }

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' })
  })

  app.get('/', async (req, res) => {
    const who = await signedIn(req, res)
    if (who && who !== 'unavailable') return res.redirect(303, '/profile')
    const failed = req.query.error === 'login'
    const revoked = req.query.state === 'revoked'
    res.type('html').send(
      page({
        title: 'Sign in · CoreSDK demo',
        heading: 'CoreSDK demo',
        body: `<h1>Welcome</h1>
          <p class="muted">This app keeps a server-side session for each browser you sign in with. Sign in from two browsers,
          then revoke one from “My sessions”.</p>
          ${failed ? '<p class="error">The sign-in did not complete. Please try again.</p>' : ''}
          ${revoked ? '<p class="error" data-notice="revoked">This browser’s session was revoked. You are signed out at the provider too: sign in again.</p>' : ''}
          <p><a class="button" href="/auth/login?returnTo=/profile">Sign in with ${escapeHtml(providerName)}</a></p>`,
      }),
    )
  })

  app.get('/auth/login', async (req, res) => send(res, await routes.login(toOidcRequest(baseUrl, req))))
  app.get('/auth/callback', async (req, res) => {
    const answer = await routes.callback(toOidcRequest(baseUrl, req))
    // A browser gets a page, not a problem document: apply the cookies and go back home with a message.
    if (answer.status >= 400) {
      res.setHeader('set-cookie', answer.headers['set-cookie'] ?? [])
      // 401: the provider vouched for a login this app refuses, typically one from a provider session whose session
      // here was revoked (a revocation sticks: that provider session cannot open another one). The way back is to
      // end it at the provider, then sign in anew.
      const endSession = answer.status === 401 ? oidc.logoutUrl({ state: 'revoked' }) : null
      return res.redirect(303, endSession ?? '/?error=login')
    }
    send(res, answer)
  })
  app.post('/auth/logout', async (req, res) => send(res, await routes.logout(toOidcRequest(baseUrl, req))))
  app.post('/auth/logout-all', async (req, res) =>
    send(res, await routes.logout(toOidcRequest(baseUrl, req), { everywhere: true })),
  )
  app.post(
    '/auth/backchannel-logout',
    express.urlencoded({ extended: false, limit: '16kb' }),
    async (req, res) => send(res, await routes.backchannelLogout(toOidcRequest(baseUrl, req))),
  )

  app.get('/profile', async (req, res) => {
    const who = await guarded(req, res)
    if (!who) return
    const tokens = await sdk.sessions().getTokens(who.session.id)
    const rows = Object.entries(who.user)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${formatClaim(name, value)}</td></tr>`)
      .join('')
    const expires = tokens?.accessTokenExpiresAt
      ? formatTime(new Date(tokens.accessTokenExpiresAt))
      : 'unknown'
    shell(
      res,
      'Profile',
      '/profile',
      who.user,
      `<h1>Profile</h1>
      <p class="muted">The verified claims CoreSDK put on the request as <code>coresdk_user</code>.</p>
      <table><thead><tr><th>Claim</th><th>Value</th></tr></thead><tbody>${rows}</tbody></table>
      <h2 style="margin-top:24px">Tokens</h2>
      <p>Access token expires <strong>${escapeHtml(expires)}</strong>${tokens?.refreshToken ? '; a refresh token is held (encrypted at rest).' : '.'}
      ${req.query.refreshed ? '<span class="badge">refreshed</span>' : ''}</p>
      ${tokens?.refreshToken ? '<form method="post" action="/session/refresh"><button class="secondary" type="submit">Refresh tokens now</button></form>' : ''}`,
    )
  })

  app.post('/session/refresh', async (req, res) => {
    const who = await guarded(req, res)
    if (!who) return
    try {
      await sdk.sessions().refresh(who.session.id)
      res.redirect(303, '/profile?refreshed=1')
    } catch {
      // The provider refused the refresh token: core revoked the session, so the user signs in again.
      res.redirect(303, '/')
    }
  })

  app.get('/sessions', async (req, res) => {
    const who = await guarded(req, res)
    if (!who) return
    // This device first, then the most recently seen.
    const sessions = (await sdk.sessions().listForUser(who.user.sub)).sort(
      (a, b) =>
        Number(b.id === who.session.id) - Number(a.id === who.session.id) || +b.lastSeenAt - +a.lastSeenAt,
    )
    const rows = sessions
      .map((s) => {
        const current = s.id === who.session.id
        return `<tr data-session="${escapeHtml(s.id)}"${current ? ' class="current"' : ''}>
          <td data-device>${escapeHtml(describeDevice(s))}${current ? '<span class="badge">this device</span>' : ''}</td>
          <td data-ip class="nowrap">${escapeHtml(s.ip ?? 'unknown')}</td>
          <td class="nowrap">${formatTime(s.createdAt)}</td>
          <td class="nowrap">${formatTime(s.lastSeenAt)}</td>
          <td><form class="inline" method="post" action="/sessions/${encodeURIComponent(s.id)}/revoke">
            <button class="danger small" type="submit">${current ? 'Revoke and sign out' : 'Revoke'}</button></form></td>
        </tr>`
      })
      .join('')
    shell(
      res,
      'My sessions',
      '/sessions',
      who.user,
      `<h1>My sessions</h1>
      <p class="muted">Every browser signed in as <strong>${escapeHtml(who.user.sub)}</strong>. Revoking one signs it out on its next request.</p>
      ${typeof req.query.others === 'string' ? `<p class="muted" data-notice="others">Signed out ${signedOut(Number(req.query.others))}.</p>` : ''}
      <table><thead><tr><th>Browser</th><th>IP address</th><th>Created</th><th>Last seen</th><th></th></tr></thead><tbody>${rows}</tbody></table>
      <form class="inline" method="post" action="/sessions/revoke-others" style="margin-top:20px"><button class="secondary" type="submit">Sign out other devices</button></form>
      <form class="inline" method="post" action="/auth/logout-all" style="margin-top:20px"><button class="danger" type="submit">Log out everywhere</button></form>`,
    )
  })

  const signedOut = (n: number) =>
    n === 1 ? '1 other device' : `${Number.isInteger(n) && n > 0 ? n : 'no'} other devices`

  // Every other browser of the user is signed out; this one stays.
  app.post('/sessions/revoke-others', async (req, res) => {
    const who = await guarded(req, res)
    if (!who) return
    const { revoked } = await sdk.logout({ session: who.session, user: who.user, others: true })
    res.redirect(303, `/sessions?others=${revoked}`)
  })

  app.post('/sessions/:id/revoke', async (req, res) => {
    const who = await guarded(req, res)
    if (!who) return
    const mine = await sdk.sessions().listForUser(who.user.sub, { includeInactive: true })
    if (!mine.some((s) => s.id === req.params.id))
      return res
        .status(404)
        .type('html')
        .send(page({ title: 'Not found', heading: 'CoreSDK demo', body: '<p>No such session.</p>' }))
    await sdk.sessions().revoke(req.params.id, { actor: 'user' })
    if (req.params.id === who.session.id) {
      const result = await sdk.logout({ session: who.session })
      res.append('Set-Cookie', result.setCookie)
      return res.redirect(303, '/')
    }
    res.redirect(303, '/sessions')
  })

  // The app as a client of its own API: the session's access token as the bearer token (refreshed when about to
  // expire), and, to show the difference, its ID token, which the API refuses (another audience, not an at+jwt).
  app.get('/api-call', async (req, res) => {
    const who = await guarded(req, res)
    if (!who) return
    let tokens = await sdk.sessions().getTokens(who.session.id)
    if (tokens?.refreshToken && (tokens.accessTokenExpiresAt ?? 0) < Date.now() + 30_000) {
      try {
        await sdk.sessions().refresh(who.session.id)
        tokens = await sdk.sessions().getTokens(who.session.id)
      } catch {
        return res.redirect(303, '/')
      }
    }
    const calls = await Promise.all(
      (['accessToken', 'idToken'] as const).map(async (kind) => {
        const token = tokens?.[kind]
        if (!token) return { kind, status: 0, body: 'no such token in the session' }
        const answer = await fetch(`${apiUrl}/me`, { headers: { authorization: `Bearer ${token}` } })
        return { kind, status: answer.status, body: await answer.text() }
      }),
    )
    const rows = calls
      .map(
        ({ kind, status, body }) => `<tr data-call="${kind}">
          <th>${kind === 'accessToken' ? 'Access token' : 'ID token'}</th>
          <td><strong data-status>${status}</strong> <code>${escapeHtml(prettyJson(body))}</code></td></tr>`,
      )
      .join('')
    shell(
      res,
      'Call the API',
      '/api-call',
      who.user,
      `<h1>Call the API</h1>
      <p class="muted"><code>GET /api/me</code> with <code>Authorization: Bearer …</code>. The API accepts access tokens
      issued for it (audience <code>${escapeHtml(apiAudience)}</code>, <code>typ: at+jwt</code>),
      never an ID token, whose audience is the client.</p>
      <table><thead><tr><th>Bearer token</th><th>Answer</th></tr></thead><tbody>${rows}</tbody></table>`,
    )
  })

  // The JSON API of the example apps, on the Express adapter.
  const api = express.Router()
  api.use(coreSdkMiddleware(sdk))
  api.get('/me', (req, res) => {
    res.json({
      sub: req.coresdk_user?.sub,
      email: req.coresdk_user?.email,
      session_id: req.coresdk_session?.id ?? null,
    })
  })
  api.get('/sessions', async (req, res) => {
    res.json(await sdk.sessions().listForUser(req.coresdk_user?.sub ?? ''))
  })
  api.delete('/sessions/:id', async (req, res) => {
    const mine = await sdk.sessions().listForUser(req.coresdk_user?.sub ?? '', { includeInactive: true })
    if (!mine.some((s) => s.id === req.params.id)) return res.status(404).json({ code: 'session_not_found' })
    await sdk.sessions().revoke(req.params.id, { actor: 'user' })
    res.status(204).end()
  })
  api.post('/logout', async (req, res) => {
    await logout(req, res)
    res.status(204).end()
  })
  api.post('/logout-all', async (req, res) => {
    await logout(req, res, { everywhere: true })
    res.status(204).end()
  })
  app.use('/api', api)

  return app
}
