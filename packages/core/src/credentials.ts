import { isSessionId } from './crypto.ts'
import type { AuthenticateRequest } from './engine.ts'

/** The one credential a request carries, as the pipeline reads it. */
export type Credential =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string }
  | { kind: 'cookie'; candidates: ReadonlyArray<{ id: string; secret: string }> }
  | { kind: 'bad_cookie' }

const NONE: Credential = { kind: 'none' }
const MALFORMED: Credential = { kind: 'malformed' }
const BAD_COOKIE: Credential = { kind: 'bad_cookie' }
const SECRET = /^[A-Za-z0-9_-]{22,128}$/

// RFC 6750 b64token after "Bearer" and at least one space; irregexp runs this faster than a scan written in JS.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/** The token of an `Authorization: Bearer` value, or null when the value is not one. */
export function bearerToken(value: string): string | null {
  const match = BEARER.exec(value)
  return match === null ? null : match[1]!
}

/**
 * The token of the usual spelling, `Bearer <token>` with one space and nothing after, without checking its
 * characters: only for a lookup in the verify cache. A token found there was verified, and so holds nothing but
 * base64url segments and dots, and perhaps padding at the end (all {@link bearerToken} accepts), or whitespace in
 * its signature (which base64 decoding skips, and {@link bearerToken} refuses): that is why one is ruled out here.
 * Undefined for any other spelling, which {@link readCredential} reads in full.
 */
export function plainBearer(value: string): string | undefined {
  if (!value.startsWith('Bearer ')) return undefined
  const token = value.slice(7)
  return token.length === 0 || token.includes(' ') || token.includes('\t') ? undefined : token
}

// The scheme of an Authorization value: a header for another scheme (Basic from a proxy) is not ours to judge.
const BEARER_SCHEME = /^bearer(?: |$)/i

/** Every value of the cookie `name` in a Cookie header, in order (a subdomain may have planted siblings). */
function cookieValues(header: string, name: string): string[] {
  const values: string[] = []
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    let value = pair.slice(eq + 1).trim()
    if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (value !== '') values.push(value)
  }
  return values
}

/**
 * Reads the credential of a request: one `Authorization: Bearer` header, else the session cookie. Several
 * `Authorization` values, or a Bearer one that is not a well-formed token, make the request malformed; a header for
 * another scheme is left alone. Every cookie with the session cookie's name is a candidate, tried in order.
 */
export function readCredential(request: AuthenticateRequest, cookieName: string): Credential {
  let authorization = request.authorization
  if (Array.isArray(authorization)) {
    if (authorization.length > 1) return MALFORMED
    authorization = authorization[0]
  }
  if (typeof authorization === 'string' && BEARER_SCHEME.test(authorization)) {
    const token = bearerToken(authorization)
    return token === null ? MALFORMED : { kind: 'bearer', token }
  }
  const header = Array.isArray(request.cookie) ? request.cookie.join('; ') : request.cookie
  if (typeof header !== 'string' || header === '' || !header.includes(cookieName)) return NONE
  const values = cookieValues(header, cookieName)
  if (values.length === 0) return NONE
  const candidates: Array<{ id: string; secret: string }> = []
  for (const value of values) {
    const dot = value.indexOf('.')
    if (dot === -1) continue
    const id = value.slice(0, dot)
    const secret = value.slice(dot + 1)
    if (isSessionId(id) && SECRET.test(secret)) candidates.push({ id, secret })
  }
  return candidates.length === 0 ? BAD_COOKIE : { kind: 'cookie', candidates }
}
