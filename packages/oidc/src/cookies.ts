/** Attributes of the login-state cookie. */
export interface StateCookieOptions {
  name: string
  secure: boolean
  path: string
  /** Lifetime in seconds; 0 clears the cookie. */
  maxAge: number
}

/** Serialises a cookie whose value is already cookie-safe (base64url and dots). */
export function serializeCookie(value: string, options: StateCookieOptions): string {
  const parts = [
    `${options.name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
  ]
  if (options.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT')
  if (options.secure) parts.push('Secure')
  return parts.join('; ')
}

/** The value of one cookie in a `Cookie` header (or several), or undefined. The first occurrence wins. */
export function readCookie(header: string | string[] | null | undefined, name: string): string | undefined {
  if (header == null) return undefined
  const joined = Array.isArray(header) ? header.join('; ') : header
  for (const pair of joined.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    if (pair.slice(0, eq).trim() !== name) continue
    const value = pair.slice(eq + 1).trim()
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value
  }
  return undefined
}
