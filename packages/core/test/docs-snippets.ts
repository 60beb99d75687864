// The TypeScript snippets of docs/sessions.md, verbatim (imports aside) inside functions, so that `tsc` type-checks
// them and docs.test.ts runs them. docs.test.ts fails when a snippet in the page is not found here.
import { CoreSDKClient, type TokenSet } from '../src/index.ts'

export function configure() {
  // snippet: configure
  const sdk = new CoreSDKClient({
    tenantId: 'acme',
    serviceName: 'my-api',
    failMode: 'open',
    jwt: {
      issuer: 'https://id.example.com/',
      audience: 'my-api',
      algorithms: ['HS256'],
      secret: process.env.CORESDK_JWT_SECRET,
    },
    sessions: { idleTimeout: 1800, absoluteTimeout: 86_400 },
  })
  // end
  return sdk
}

export async function create(sdk: CoreSDKClient, tokenSet: TokenSet) {
  // snippet: create
  // Phase 2 — explicit session creation after OAuth callback
  async function onLogin(tokenSet: TokenSet) {
    const session = await sdk.sessions().create(tokenSet)
    console.log(session.id)
    return session
  }
  // end
  return (await onLogin(tokenSet)).id
}

export async function rememberMe(sdk: CoreSDKClient, tokenSet: TokenSet, choice: boolean) {
  // snippet: remember-me
  // A "remember me" box on the login page: a persistent cookie, or one that ends with the browser session.
  async function onLoginWithChoice(tokenSet: TokenSet, rememberMe: boolean) {
    const session = await sdk.sessions().create(tokenSet, { persistent: rememberMe })
    console.log(session.persistent, session.absoluteExpiresAt.toISOString())
    return session
  }
  // end
  return onLoginWithChoice(tokenSet, choice)
}

export async function get(sdk: CoreSDKClient, id: string) {
  // snippet: get
  async function showSession(id: string) {
    const session = await sdk.sessions().get(id)
    if (session) console.log(session.userId, session.expiresAt, session.isActive())
    return session
  }
  // end
  return showSession(id)
}

export async function revoke(sdk: CoreSDKClient, id: string) {
  // snippet: revoke
  // Revoke a single session (logout)
  async function logout(id: string) {
    await sdk.sessions().revoke(id)
  }
  // end
  await logout(id)
}

export async function revokeAll(sdk: CoreSDKClient, userId: string) {
  // snippet: revoke-all
  // Revoke all sessions for a user — after a password change or a compromise
  async function logoutEverywhere(userId: string) {
    await sdk.sessions().revokeAllForUser(userId)
  }
  // end
  await logoutEverywhere(userId)
}

export async function revokeOthers(sdk: CoreSDKClient, userId: string, currentSessionId: string) {
  // snippet: revoke-others
  // "Sign out other devices": every session of the user but the current one
  async function signOutOtherDevices(userId: string, currentSessionId: string) {
    return sdk.sessions().revokeOthersForUser(userId, currentSessionId)
  }
  // end
  return signOutOtherDevices(userId, currentSessionId)
}

export function events(sdk: CoreSDKClient) {
  // snippet: events
  const off = sdk.on('session.revoked', (event) => {
    // { type, at, tenantId, actor, sessionId, userId, reason }: ids and times, never a token or a claim value
    console.log(JSON.stringify(event))
  })
  sdk.on('auth.degraded', (event) => console.warn(`sessions unreachable (${event.reason}): failing open`))
  // end
  return off
}

export async function list(sdk: CoreSDKClient, userId: string) {
  // snippet: list
  async function showSessions(userId: string) {
    for (const s of await sdk.sessions().listForUser(userId)) {
      console.log(s.id, s.createdAt.toISOString(), s.lastSeenAt.toISOString(), s.meta.userAgent)
    }
  }
  // end
  await showSessions(userId)
}

export async function authenticate(sdk: CoreSDKClient, headers: { authorization?: string; cookie?: string }) {
  // snippet: authenticate
  async function check(headers: { authorization?: string; cookie?: string }) {
    const result = await sdk.authenticate({ authorization: headers.authorization, cookie: headers.cookie })
    if (result.ok) {
      console.log(result.user?.sub, result.session?.id, result.degraded)
    } else {
      console.log(result.problem.status, result.problem.body.code)
    }
    return result
  }
  // end
  return check(headers)
}
