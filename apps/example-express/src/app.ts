import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { authRoute, coreSdkErrorHandler, coreSdkMiddleware, logout, requireRoles } from '@coresdk/express'
import { type OidcHandlers, oidcRoutes } from '@coresdk/oidc'
import express, { type Express } from 'express'

/** Options of {@link createApp}; without any, the app serves the example API (DESIGN §7) only. */
export interface AppOptions {
  /**
   * Sign-in through an OpenID provider: `GET /auth/login`, `GET /auth/callback` and `POST /auth/backchannel-logout`,
   * and `POST /auth/logout` (`-all`) ending the provider's session too. Every `/auth/*` route is then public.
   */
  oidc?: OidcHandlers
  /** Serve the staff routes, checked by role: `/api/staff`, `/api/audit` and `/public/staff`. @default false */
  staff?: boolean
  /** Add `degraded` to `/api/me`: true when the request passed while the session store was unreachable. @default false */
  degraded?: boolean
}

/** The example API (DESIGN §7) on Express, protected by CoreSDK. */
export function createApp(sdk: CoreSDKClient, options: AppOptions = {}): Express {
  const { oidc, staff = false, degraded = false } = options
  const app = express()
  app.disable('x-powered-by')
  const publicPaths = ['/health', ...(oidc ? ['/auth/*'] : []), ...(staff ? ['/public/*'] : [])]
  app.use(coreSdkMiddleware(sdk, { publicPaths }))

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' })
  })

  app.get('/api/me', (req, res) => {
    const user = req.coresdk_user! // set by coreSdkMiddleware
    const me = { sub: user.sub, email: user.email, session_id: req.coresdk_session?.id ?? null }
    res.json(degraded ? { ...me, degraded: req.coresdk_degraded } : me)
  })

  app.get('/api/sessions', async (req, res) => {
    res.json({ sessions: await sdk.sessions().listForUser(req.coresdk_user!.sub) })
  })

  app.delete('/api/sessions/:id', async (req, res) => {
    const session = await sdk.sessions().get(req.params.id)
    // Someone else's session answers exactly like a missing one: no oracle on session ids.
    if (!session || session.userId !== req.coresdk_user!.sub) throw new CoreSDKError('session_not_found')
    await sdk.sessions().revoke(session.id, { actor: 'user' })
    res.status(204).end()
  })

  if (oidc) {
    // No body parser: authRoute reads the back-channel logout form itself.
    for (const route of oidcRoutes(oidc))
      app[route.method === 'GET' ? 'get' : 'post'](route.path, authRoute(route.handler))
  } else {
    app.post('/auth/logout', async (req, res) => {
      await logout(req, res)
      res.status(204).end()
    })
    app.post('/auth/logout-all', async (req, res) => {
      await logout(req, res, { everywhere: true })
      res.status(204).end()
    })
  }

  if (staff) {
    const me = (req: express.Request, res: express.Response) => {
      res.json({ sub: req.coresdk_user!.sub })
    }
    app.get('/api/staff', requireRoles('admin', 'support'), me)
    app.get('/api/audit', requireRoles({ allOf: ['admin', 'auditor'] }), me)
    // Under a public path, yet checked: a route with roles is never public.
    app.get('/public/staff', requireRoles('admin'), me)
  }

  app.post('/auth/logout-others', async (req, res) => {
    await logout(req, res, { others: true })
    res.status(204).end()
  })

  // A CoreSDKError from a route (the store down, the 404 above) answers with core's problem, not an error page.
  app.use(coreSdkErrorHandler())

  return app
}
