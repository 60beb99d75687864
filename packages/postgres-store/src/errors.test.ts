import { CoreSDKError } from '@coresdk/core'
import { describe, expect, it } from 'vitest'
import { isUnreachable, toStoreError } from './errors.ts'

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })

describe('which PostgreSQL errors mean unreachable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a connection closed under a query', new Error('Connection terminated unexpectedly')],
    ['a connect that timed out', new Error('Connection terminated due to connection timeout')],
    ['no reply in time', new Error('Query read timeout')],
    ['no pooled connection in time', new Error('timeout exceeded when trying to connect')],
    ['statement_timeout', withCode('57014')],
    ['lock_timeout', withCode('55P03')],
    ['the server shutting down', withCode('57P01')],
    ['the server starting up', withCode('57P03')],
    ['too many connections', withCode('53300')],
    ['a connection exception', withCode('08006')],
    ['a standby refusing writes', withCode('25006')],
  ])('%s is store_unavailable', (_name, error) => {
    expect(isUnreachable(error)).toBe(true)
    expect(toStoreError(error).code).toBe('store_unavailable')
  })

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', withCode('42601')],
    ['a bad value', withCode('22P02', 'invalid input syntax for type bigint: "secret value"')],
    ['a bug of ours', new TypeError('issuedAt must be a time in whole ms.')],
    ['something not an Error', 'a string'],
  ])('%s is internal_error, its message not kept', (_name, error) => {
    const wrapped = toStoreError(error)
    expect(wrapped).toBeInstanceOf(CoreSDKError)
    expect(wrapped.code).toBe('internal_error')
    expect(String((wrapped.cause as Error).message)).not.toContain('secret value')
  })

  it('names the migration when the tables are missing', () => {
    expect(toStoreError(withCode('42P01')).message).toMatch(/migrate/)
  })
})
