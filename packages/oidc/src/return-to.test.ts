import { CoreSDKError, problemFromError } from '@coresdk/core'
import { describe, expect, it } from 'vitest'
import { checkReturnTo, isSafeReturnTo, RETURN_TO_MAX_LENGTH } from './return-to.ts'

function thrown(value: string): unknown {
  try {
    checkReturnTo(value)
  } catch (error) {
    return error
  }
  throw new Error(`${JSON.stringify(value)} was accepted`)
}

describe('returnTo', () => {
  it('accepts a path on this site, with its query and fragment', () => {
    for (const value of ['/', '/profile', '/profile?tab=1&x=%20y#top', '/a/b/c.html', `/${'a'.repeat(2047)}`])
      expect(isSafeReturnTo(value), value).toBe(true)
    expect(checkReturnTo(undefined)).toBe('/')
    expect(checkReturnTo('/profile?tab=1')).toBe('/profile?tab=1')
  })

  it('refuses another origin, a scheme, control characters, non-ASCII and overlong values', () => {
    for (const value of [
      '',
      'profile',
      '//evil.example',
      '///evil.example',
      '/\\evil',
      '/a\\b',
      'https://evil.example/',
      'javascript:alert(1)',
      '/\r\nSet-Cookie:x',
      '/%0d%0aSet-Cookie:x',
      '/%7F',
      '/%zz',
      '/50%',
      '/\tevil',
      '/ a',
      '/café',
      `/${'a'.repeat(RETURN_TO_MAX_LENGTH)}`,
    ]) {
      expect(isSafeReturnTo(value), JSON.stringify(value)).toBe(false)
      const error = thrown(value)
      expect(error, JSON.stringify(value)).toBeInstanceOf(CoreSDKError)
      expect(error).toMatchObject({ code: 'invalid_request', status: 400 })
    }
    expect(isSafeReturnTo(undefined)).toBe(false)
    expect(isSafeReturnTo(['/a'])).toBe(false)
  })

  it('is refused with a problem that names returnTo and never repeats the value', () => {
    const problem = problemFromError(thrown('//evil.example/steal'))
    expect(problem.status).toBe(400)
    expect(problem.body).toMatchObject({ code: 'invalid_request' })
    expect(problem.body.detail).toContain('returnTo')
    expect(JSON.stringify(problem.body)).not.toContain('evil')
  })
})
