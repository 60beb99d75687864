import { SignJWT } from 'jose'
import { CoreSDKClient, type SDKConfig } from '../src/index.ts'

export const ISSUER = 'https://issuer.test/'
export const AUDIENCE = 'my-api'
export const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long!'

/** An HS256 token with sensible defaults; `claims` override them. */
export async function hsToken(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    sub: 'usr_1',
    email: 'one@example.com',
    iat: now,
    exp: now + 300,
    iss: ISSUER,
    aud: AUDIENCE,
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(new TextEncoder().encode(SECRET))
}

/** The 32-byte key that seals OAuth tokens, shared by every test client (as instances sharing a store must). */
export const ENCRYPTION_KEY = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY'

/** A client that verifies {@link hsToken}s; `config` overrides the defaults. */
export function hsClient(config: SDKConfig = {}): CoreSDKClient {
  return new CoreSDKClient({
    env: {},
    ...config,
    jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], secret: SECRET, ...config.jwt },
    sessions: { encryptionKey: ENCRYPTION_KEY, ...config.sessions },
  })
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Waits until the wall clock enters the next second (token `iat` has one-second resolution). */
export async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5))
}
