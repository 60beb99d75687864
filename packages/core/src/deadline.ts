import { CoreSDKError, type CoreSDKErrorCode } from './errors.ts'

/**
 * Settles like `operation`, or rejects with a `CoreSDKError` of `code` after `ms` milliseconds. A rejection of
 * the operation is wrapped the same way (its error kept as `cause`), so callers see one failure shape.
 */
export function withDeadline<T>(
  operation: Promise<T>,
  ms: number,
  code: CoreSDKErrorCode = 'store_unavailable',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CoreSDKError(code, `No answer within ${ms} ms.`)), ms)
    Promise.resolve(operation).then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(CoreSDKError.from(error, code))
      },
    )
  })
}
