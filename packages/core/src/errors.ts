import type { AuthReason, HttpProblem, ProblemBody } from './types.ts'

/** Every error code CoreSDK raises or answers with. */
export type CoreSDKErrorCode =
  | 'invalid_config'
  | 'invalid_request'
  | 'missing_credentials'
  | 'invalid_token'
  | 'token_expired'
  | 'key_source_unavailable'
  | 'store_unavailable'
  | 'sidecar_unavailable'
  | 'session_not_found'
  | 'session_limit'
  | 'refresh_token_invalid'
  | 'refresh_failed'
  | 'forbidden'
  | 'csrf_failed'
  | 'payload_too_large'
  | 'internal_error'

interface ProblemSpec {
  status: number
  title: string
  detail: string
}

const PROBLEMS: Record<CoreSDKErrorCode, ProblemSpec> = {
  invalid_config: { status: 500, title: 'Invalid configuration', detail: 'The server is misconfigured.' },
  invalid_request: {
    status: 400,
    title: 'Invalid request',
    detail: 'The Authorization header is malformed: send exactly one "Bearer <token>".',
  },
  missing_credentials: {
    status: 401,
    title: 'Authentication required',
    detail: 'This resource requires a bearer token or a session cookie.',
  },
  invalid_token: {
    status: 401,
    title: 'Invalid token',
    detail: 'The credential is invalid, revoked or not accepted by this service.',
  },
  token_expired: { status: 401, title: 'Token expired', detail: 'The credential has expired.' },
  key_source_unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'The signing keys could not be obtained. Retry later.',
  },
  store_unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'The session store is unavailable. Retry later.',
  },
  sidecar_unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'The CoreSDK sidecar is unavailable. Retry later.',
  },
  session_not_found: { status: 404, title: 'Not found', detail: 'No such session.' },
  session_limit: {
    status: 403,
    title: 'Session limit reached',
    detail: 'This user already holds the most sessions allowed. End one to start another.',
  },
  refresh_token_invalid: {
    status: 401,
    title: 'Invalid token',
    detail: 'The session can no longer be refreshed.',
  },
  refresh_failed: {
    status: 503,
    title: 'Service unavailable',
    detail: 'The session could not be refreshed.',
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    detail: 'The credential does not grant access to this resource.',
  },
  csrf_failed: {
    status: 403,
    title: 'Forbidden',
    detail: 'A cookie-authenticated request that changes state must come from an allowed origin.',
  },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body is too large.' },
  internal_error: { status: 500, title: 'Internal error', detail: 'An unexpected error occurred.' },
}

/** Whether `code` is one of CoreSDK's error codes (for reading codes off the wire). */
export function isErrorCode(code: unknown): code is CoreSDKErrorCode {
  return typeof code === 'string' && Object.hasOwn(PROBLEMS, code)
}

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5

/**
 * The one error class of CoreSDK: a discriminated `code`, the HTTP `status` it maps to, optional response
 * `headers`, and the wrapped `cause`. Its message never contains a token, a secret or a claim value.
 */
export class CoreSDKError extends Error {
  override readonly name = 'CoreSDKError'
  readonly code: CoreSDKErrorCode
  readonly status: number
  readonly headers: Record<string, string>
  /** The problem's `detail` in place of the code's own: fixed text naming what was wrong, never a received value. */
  readonly detail: string | undefined

  constructor(
    code: CoreSDKErrorCode,
    message?: string,
    options?: { cause?: unknown; headers?: Record<string, string>; detail?: string },
  ) {
    super(
      message ?? PROBLEMS[code].detail,
      options?.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = code
    this.status = PROBLEMS[code].status
    this.headers = options?.headers ?? {}
    this.detail = options?.detail
  }

  /** Wraps anything thrown into a CoreSDKError, keeping the original as `cause` (never in the message). */
  static from(error: unknown, fallback: CoreSDKErrorCode = 'internal_error'): CoreSDKError {
    return error instanceof CoreSDKError ? error : new CoreSDKError(fallback, undefined, { cause: error })
  }
}

/** Options for {@link problemFor}. */
export interface ProblemOptions {
  /** The realm in `WWW-Authenticate`. @default 'coresdk' */
  realm?: string
  /** Whether the request carried a credential (RFC 6750 adds `error=` only then). @default true */
  credentialGiven?: boolean
  /** The body's `detail`, when the code's own says less than the refusal: fixed text, never a received value. */
  detail?: string
}

/** The problem type URI for a code. */
export function problemType(code: string): string {
  return `urn:coresdk:problem:${code.replaceAll('_', '-')}`
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`
}

/**
 * Builds the HTTP answer for an error code: an RFC 9457 `application/problem+json` body with `code`, and
 * `WWW-Authenticate` (RFC 6750) on 401 or `Retry-After` on 503. The body is fixed per code: no token,
 * claim value or library message ever reaches it.
 */
export function problemFor(code: CoreSDKErrorCode, options: ProblemOptions = {}): HttpProblem {
  const spec = PROBLEMS[code]
  const body: ProblemBody = {
    type: problemType(code),
    title: spec.title,
    status: spec.status,
    detail: options.detail ?? spec.detail,
    code,
  }
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  }
  const realm = `realm=${quoted(options.realm ?? 'coresdk')}`
  if (spec.status === 401) {
    if (code === 'missing_credentials' || options.credentialGiven === false) {
      headers['www-authenticate'] = `Bearer ${realm}`
    } else {
      const description =
        code === 'token_expired' ? 'The access token expired' : 'The access token is invalid'
      headers['www-authenticate'] =
        `Bearer ${realm}, error="invalid_token", error_description=${quoted(description)}`
    }
  } else if (spec.status === 400) {
    headers['www-authenticate'] = `Bearer ${realm}, error="invalid_request"`
  } else if (spec.status === 503) {
    headers['retry-after'] = String(RETRY_AFTER_SECONDS)
  }
  return { status: spec.status, headers, body }
}

/** The problem for a refused token: one body for every reason but expiry (no oracle), 503 for a key outage. */
export function problemForReason(reason: AuthReason, options: ProblemOptions = {}): HttpProblem {
  switch (reason) {
    case 'missing_token':
      return problemFor('missing_credentials', options)
    case 'expired':
      return problemFor('token_expired', options)
    case 'key_source_unavailable':
      return problemFor('key_source_unavailable', options)
    default:
      return problemFor('invalid_token', options)
  }
}

/** The HTTP answer for any error: a CoreSDKError keeps its code, anything else becomes a 500 `internal_error`. */
export function problemFromError(error: unknown, options: ProblemOptions = {}): HttpProblem {
  const wrapped = CoreSDKError.from(error)
  const problem = problemFor(
    wrapped.code,
    wrapped.detail === undefined ? options : { ...options, detail: wrapped.detail },
  )
  return { ...problem, headers: { ...problem.headers, ...wrapped.headers } }
}
