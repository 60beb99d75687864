import { CoreSDKError } from '@coresdk/core'

/** The longest `returnTo` a login accepts, in characters. */
export const RETURN_TO_MAX_LENGTH = 2048

// "/" then printable ASCII other than space and "\" (which browsers read as "/"), never "//" (another host to a
// browser), and percent-escapes well formed and not of control characters (a router that decodes would see CR LF).
const RETURN_TO = /^\/(?!\/)(?:[\x21-\x24\x26-\x5b\x5d-\x7e]|%(?![01][0-9A-Fa-f]|7[Ff])[0-9A-Fa-f]{2})*$/

const DETAIL = `returnTo must be a path on this site: "/" then printable ASCII, not "//" or "\\", at most ${RETURN_TO_MAX_LENGTH} characters.`

/** Whether `value` is a `returnTo` a login accepts: a same-origin relative path (`/path?query#fragment`). */
export function isSafeReturnTo(value: unknown): value is string {
  return typeof value === 'string' && value.length <= RETURN_TO_MAX_LENGTH && RETURN_TO.test(value)
}

/**
 * The `returnTo` of a login: `/` when none is given, the value itself when {@link isSafeReturnTo}; anything else
 * throws a `CoreSDKError` (`invalid_request`, 400) whose problem names `returnTo` without repeating it.
 */
export function checkReturnTo(value: string | undefined): string {
  if (value === undefined) return '/'
  if (isSafeReturnTo(value)) return value
  throw new CoreSDKError('invalid_request', DETAIL, { detail: DETAIL })
}
