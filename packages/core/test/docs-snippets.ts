// The TypeScript snippets of docs/sessions.md, verbatim inside functions, so that `tsc` type-checks them and
// docs.test.ts runs them. docs.test.ts fails when a snippet in the page is not found here.
import { CoreSDKClient, type TokenSet } from '../src/index.ts'

export function configure(env: Record<string, string | undefined>) {
  // snippet: configure
  const sdk = new CoreSDKClient({
    tenantId: 'acme',
    serviceName: 'my-api',
    failMode: 'open',
    jwt: {
      issuer: 'https://id.example.com/',
      audience: 'my-api',
      algorithms: ['HS256'],
      secret: env.CORESDK_JWT_SECRET,
    },
    sessions: { idleTimeout: 1800, absoluteTimeout: 86_400 },
    env,
  })
  // end
  return sdk
}

export async function create(sdk: CoreSDKClient, tokenSet: TokenSet) {
  // snippet: create
  // Phase 2 — explicit session creation after OAuth callback
  const session = await sdk.sessions().create(tokenSet)
  console.log(session.id)
  // end
  return session.id
}

export async function get(sdk: CoreSDKClient, id: string) {
  // snippet: get
  const session = await sdk.sessions().get(id)
  if (session) console.log(session.userId, session.expiresAt, session.isActive())
  // end
  return session
}

export async function revoke(sdk: CoreSDKClient, id: string) {
  // snippet: revoke
  // Revoke a single session (logout)
  await sdk.sessions().revoke(id)
  // end
}

export async function revokeAll(sdk: CoreSDKClient, userId: string) {
  // snippet: revoke-all
  // Revoke all sessions for a user — after a password change or a compromise
  await sdk.sessions().revokeAllForUser(userId)
  // end
}

export async function list(sdk: CoreSDKClient, userId: string) {
  // snippet: list
  for (const s of await sdk.sessions().listForUser(userId)) {
    console.log(s.id, s.createdAt.toISOString(), s.lastSeenAt.toISOString(), s.meta.userAgent)
  }
  // end
}

export async function authenticate(sdk: CoreSDKClient, headers: { authorization?: string; cookie?: string }) {
  // snippet: authenticate
  const result = await sdk.authenticate({ authorization: headers.authorization, cookie: headers.cookie })
  if (result.ok) {
    console.log(result.user?.sub, result.session?.id, result.degraded)
  } else {
    console.log(result.problem.status, result.problem.body.code)
  }
  // end
  return result
}
