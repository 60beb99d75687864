import { parse as parseCookie } from 'cookie'
import { isSessionId } from './crypto.ts'
import type { AuthenticateRequest } from './engine.ts'

/** The one credential a request carries, as the pipeline reads it. */
export type Credential =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string }
  | { kind: 'cookie'; id: string; secret: string }
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
 * Reads the credential of a request: one `Authorization: Bearer` header, else the session cookie. Several
 * `Authorization` values, or one that is not a bearer token, make the request malformed.
 */
export function readCredential(request: AuthenticateRequest, cookieName: string): Credential {
  let authorization = request.authorization
  if (Array.isArray(authorization)) {
    if (authorization.length > 1) return MALFORMED
    authorization = authorization[0]
  }
  if (typeof authorization === 'string') {
    const token = bearerToken(authorization)
    return token === null ? MALFORMED : { kind: 'bearer', token }
  }
  const header = Array.isArray(request.cookie) ? request.cookie.join('; ') : request.cookie
  if (typeof header !== 'string' || header === '') return NONE
  const value = parseCookie(header)[cookieName]
  if (value === undefined || value === '') return NONE
  const dot = value.indexOf('.')
  if (dot === -1) return BAD_COOKIE
  const id = value.slice(0, dot)
  const secret = value.slice(dot + 1)
  if (!isSessionId(id) || !SECRET.test(secret)) return BAD_COOKIE
  return { kind: 'cookie', id, secret }
}
