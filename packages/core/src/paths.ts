/** A public path: an exact path (`/health`), or a prefix ending in `/*` (`/public/*`). */
export type PublicPath = string

const SUSPICIOUS = /\/\/|\/\.\.?(\/|$)|;|%|\\/

/**
 * Whether a request path is public. The raw path is matched case-sensitively and exactly: a path with `//`,
 * dot segments, `;`, percent-escapes or backslashes is never public, so no spelling of a protected route can
 * pass as a public one. The query string is ignored.
 */
export function isPublicPath(rawPath: string, publicPaths: readonly PublicPath[]): boolean {
  if (publicPaths.length === 0) return false
  const query = rawPath.indexOf('?')
  const path = query === -1 ? rawPath : rawPath.slice(0, query)
  if (SUSPICIOUS.test(path)) return false
  for (const pattern of publicPaths) {
    if (pattern.endsWith('/*')) {
      const prefix = pattern.slice(0, -1)
      if (path.startsWith(prefix) || path === prefix.slice(0, -1)) return true
    } else if (path === pattern) {
      return true
    }
  }
  return false
}
