import { type CoreSDKClient, CoreSDKError } from '@coresdk/core'
import {
  authRoute,
  type CoreSdkVariables,
  coreSdkErrorHandler,
  coreSdkMiddleware,
  logout,
  requireRoles,
  withCoreSdk,
} from '@coresdk/hono'
import { type OidcHandlers, oidcRoutes } from '@coresdk/oidc'
import { type Context, Hono } from 'hono'

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
  /**
   * Authenticate in each route's handler (`withCoreSdk`) instead of one `app.use(coreSdkMiddleware(…))`: the same
   * answers on every route, at less cost per request; a path no route matches is then Hono's 404. @default false
   */
  perRoute?: boolean
}

type Env = { Variables: CoreSdkVariables }

/** The example API (DESIGN §7) on Hono, protected by CoreSDK. Runs on Node here, and on any Hono runtime. */
export function createApp(sdk: CoreSDKClient, options: AppOptions = {}): Hono<Env> {
  const { oidc, staff = false, degraded = false, perRoute = false } = options
  const app = new Hono<Env>()
  const publicPaths = ['/health', ...(oidc ? ['/auth/*'] : []), ...(staff ? ['/public/*'] : [])]
  const authenticated: ReturnType<typeof withCoreSdk> = perRoute
    ? withCoreSdk(sdk, { publicPaths })
    : (handler) => handler
  if (!perRoute) app.use(coreSdkMiddleware(sdk, { publicPaths }))
  // A CoreSDKError from a route (the store down, the 404 below) answers with core's problem; others as before.
  app.onError(coreSdkErrorHandler)

  app.get(
    '/health',
    authenticated((c) => c.json({ status: 'ok' })),
  )

  app.get(
    '/api/me',
    authenticated((c) => {
      const user = c.get('coresdk_user')! // set by coreSdkMiddleware
      const me = { sub: user.sub, email: user.email, session_id: c.get('coresdk_session')?.id ?? null }
      return c.json(degraded ? { ...me, degraded: c.get('coresdk_degraded') } : me)
    }),
  )

  app.get(
    '/api/sessions',
    authenticated(async (c) =>
      c.json({ sessions: await sdk.sessions().listForUser(c.get('coresdk_user')!.sub) }),
    ),
  )

  app.delete(
    '/api/sessions/:id',
    authenticated(async (c) => {
      const session = await sdk.sessions().get(c.req.param('id')!) // typed string | undefined through the wrapper
      // Someone else's session answers exactly like a missing one: no oracle on session ids.
      if (!session || session.userId !== c.get('coresdk_user')!.sub)
        throw new CoreSDKError('session_not_found')
      await sdk.sessions().revoke(session.id, { actor: 'user' })
      return c.body(null, 204)
    }),
  )

  if (oidc) {
    for (const route of oidcRoutes(oidc))
      app.on(route.method, route.path, authenticated(authRoute(route.handler)))
  } else {
    app.post(
      '/auth/logout',
      authenticated(async (c) => {
        await logout(c)
        return c.body(null, 204)
      }),
    )
    app.post(
      '/auth/logout-all',
      authenticated(async (c) => {
        await logout(c, { everywhere: true })
        return c.body(null, 204)
      }),
    )
  }

  if (staff) {
    const me = (c: Context<Env>) => c.json({ sub: c.get('coresdk_user')!.sub })
    app.get('/api/staff', authenticated(requireRoles('admin', 'support')), me)
    app.get('/api/audit', authenticated(requireRoles({ allOf: ['admin', 'auditor'] })), me)
    // Under a public path, yet checked: a route with roles is never public.
    app.get('/public/staff', authenticated(requireRoles('admin')), me)
  }

  app.post(
    '/auth/logout-others',
    authenticated(async (c) => {
      await logout(c, { others: true })
      return c.body(null, 204)
    }),
  )

  return app
}
