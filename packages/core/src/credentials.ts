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

/**
 * The token of an `Authorization: Bearer` value, or null when the value is not one. Written as a scan rather than a
 * regular expression: it runs on every request.
 */
export function bearerToken(value: string): string | null {
  if (value.length < 8) return null
  const scheme = value.charCodeAt(0) | 0x20
  // "bearer" case-insensitively, then at least one space.
  if (
    scheme !== 0x62 ||
    (value.charCodeAt(1) | 0x20) !== 0x65 ||
    (value.charCodeAt(2) | 0x20) !== 0x61 ||
    (value.charCodeAt(3) | 0x20) !== 0x72 ||
    (value.charCodeAt(4) | 0x20) !== 0x65 ||
    (value.charCodeAt(5) | 0x20) !== 0x72 ||
    value.charCodeAt(6) !== 0x20
  )
    return null
  let start = 7
  while (start < value.length && value.charCodeAt(start) === 0x20) start++
  let end = value.length
  while (end > start && value.charCodeAt(end - 1) === 0x20) end--
  if (end === start) return null
  let padding = false
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i)
    if (c === 0x3d) {
      padding = true
      continue
    }
    // RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" only at the end.
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x7e ||
      c === 0x2b ||
      c === 0x2f
    if (!ok || padding) return null
  }
  return value.slice(start, end)
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
