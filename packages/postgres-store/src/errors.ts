import { CoreSDKError } from '@coresdk/core'

// Network errors of the socket under node-postgres: the server cannot be reached.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT', // a Unix socket path with no server behind it
])

// node-postgres's own errors for a connection that closed, never opened in time, or a reply that never came; and
// pg-pool's for a pool that had no connection to give before connectionTimeoutMillis.
const CLIENT_MESSAGES =
  /^(Connection terminated|timeout expired|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/

/**
 * Whether PostgreSQL answered with an SQLSTATE meaning "not reachable now": a connection exception (class 08), the
 * server shutting down or starting (57P0x), a query cancelled by statement_timeout (57014) or a lock wait past
 * lock_timeout (55P03), too many connections (53300), or a standby that refuses writes (25006: after a failover the
 * primary is elsewhere, which for this store is the same as unreachable until the connection string follows it).
 */
function isUnreachableState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '57P05' ||
    code === '57014' ||
    code === '55P03' ||
    code === '53300' ||
    code === '25006'
  )
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** Whether an error from node-postgres means the server could not be reached (rather than a refused statement). */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true
    if (SQLSTATE.test(code)) return isUnreachableState(code)
  }
  if (CLIENT_MESSAGES.test(error.message)) return true
  // A socket error wrapped by the pool keeps the original as cause.
  return error.cause !== undefined && error.cause !== error && isUnreachable(error.cause)
}

/**
 * A description of an error safe to keep as `cause`: its class, its SQLSTATE or socket code and the object it
 * names, never its message (PostgreSQL's messages, like JSON.parse's, may quote a value: a key, a user id).
 */
function redacted(error: unknown): Error {
  if (!(error instanceof Error)) return new Error('non-error thrown')
  const e = error as Error & { code?: unknown; constraint?: unknown; routine?: unknown; table?: unknown }
  const code = typeof e.code === 'string' ? e.code : 'none'
  const fault = new Error(`${e.name} (code ${code})`)
  Object.assign(fault, {
    code,
    constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
    table: typeof e.table === 'string' ? e.table : undefined,
    routine: typeof e.routine === 'string' ? e.routine : undefined,
  })
  return fault
}

const MISSING_OBJECT = new Set(['42P01', '42883', '3F000'])

/**
 * The CoreSDKError for anything a store call threw: `store_unavailable` only when PostgreSQL could not be reached,
 * `internal_error` for everything else (fail closed). Messages are fixed; the driver's error is kept redacted.
 */
export function toStoreError(error: unknown): CoreSDKError {
  if (error instanceof CoreSDKError) return error
  const cause = redacted(error)
  if (isUnreachable(error))
    return new CoreSDKError('store_unavailable', 'PostgreSQL could not be reached.', { cause })
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && MISSING_OBJECT.has(code)) {
    return new CoreSDKError(
      'internal_error',
      'The session store tables are missing or out of date: run migrate() or `coresdk-postgres-store migrate`.',
      { cause },
    )
  }
  return new CoreSDKError('internal_error', 'The PostgreSQL session store failed.', { cause })
}
