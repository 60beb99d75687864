import { CoreSDKError, type CoreSDKErrorCode } from './errors.ts'

interface Waiting {
  at: number
  ms: number
  code: CoreSDKErrorCode
  reject: (error: CoreSDKError) => void
}

// One coarse timer for every call in flight, rather than a timer per call: the deadline check sits on the path of
// every request. A call gives up between `ms` and `ms + TICK` after it started.
const TICK = 10
const waiting = new Set<Waiting>()
let ticker: ReturnType<typeof setInterval> | undefined

function tick(): void {
  const now = Date.now()
  for (const entry of waiting) {
    if (entry.at <= now) {
      waiting.delete(entry)
      entry.reject(new CoreSDKError(entry.code, `No answer within ${entry.ms} ms.`))
    }
  }
  if (waiting.size === 0 && ticker !== undefined) {
    clearInterval(ticker)
    ticker = undefined
  }
}

/**
 * Settles like `operation`, or rejects with a `CoreSDKError` of `code` once `ms` milliseconds have passed. A
 * rejection of the operation keeps its `CoreSDKError`; anything else is wrapped as `internal_error` (its error kept
 * as `cause`): only a store that says it is unreachable, or a deadline, may count as unreachable.
 */
export function withDeadline<T>(
  operation: Promise<T>,
  ms: number,
  code: CoreSDKErrorCode = 'store_unavailable',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const entry: Waiting = { at: Date.now() + ms, ms, code, reject }
    waiting.add(entry)
    if (ticker === undefined) {
      ticker = setInterval(tick, TICK)
      // Never keep a process alive for a deadline.
      ;(ticker as { unref?: () => void }).unref?.()
    }
    Promise.resolve(operation).then(
      (value) => {
        waiting.delete(entry)
        resolve(value)
      },
      (error: unknown) => {
        waiting.delete(entry)
        reject(CoreSDKError.from(error, 'internal_error'))
      },
    )
  })
}
