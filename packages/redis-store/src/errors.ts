import { CoreSDKError } from '@coresdk/core'

// What "Redis cannot be reached" looks like through ioredis: a socket error code, one of the client's own messages
// (connection closed, offline queue off, command timeout, cluster not ready), a retry limit, or a reply from a
// server that exists but cannot serve now (cluster down, loading, failing over, blocked by a script).
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])
const UNREACHABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError'])
const UNREACHABLE_MESSAGE =
  /^(Connection is closed|Command timed out|Stream isn't writeable|Cluster isn't ready|Cluster is disconnect|None of startup nodes is available|Failed to refresh slots cache|Too many Cluster redirections|No master node is available|Node is disconnected|Socket timeout|connect ETIMEDOUT|Reached the max retries per request limit)/
const UNREACHABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY|READONLY|NOREPLICAS)\b/

/** Whether an error from ioredis means that Redis could not be reached, as opposed to a failed command. */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const { code } = error as { code?: unknown }
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true
  return (
    UNREACHABLE_NAMES.has(error.name) ||
    UNREACHABLE_MESSAGE.test(error.message) ||
    UNREACHABLE_REPLY.test(error.message)
  )
}

/**
 * The error a store operation rejects with. Only an unreachable Redis gives `store_unavailable`, the one failure
 * `failMode: 'open'` may let a verified token through; anything else (WRONGTYPE, a script error, a value that
 * cannot be encoded, a bug) is `internal_error`, so the client fails closed. The message is fixed: Redis's own text
 * may quote a key, and a key holds a user id or a credential.
 */
export function storeError(error: unknown): CoreSDKError {
  if (error instanceof CoreSDKError) return error
  if (isUnreachable(error))
    return new CoreSDKError('store_unavailable', 'Redis could not be reached.', { cause: error })
  return new CoreSDKError('internal_error', 'A Redis session store operation failed.', { cause: error })
}
