import { describe, expect, it } from 'vitest'
import { readCookie, serializeCookie } from './cookies.ts'

describe('cookies', () => {
  it('reads one cookie among several headers, first occurrence first', () => {
    expect(readCookie('a=1; coresdk_oidc=abc.def; b=2', 'coresdk_oidc')).toBe('abc.def')
    expect(readCookie(['a=1', 'coresdk_oidc=x; coresdk_oidc=y'], 'coresdk_oidc')).toBe('x')
    expect(readCookie('coresdk_oidc_other=1', 'coresdk_oidc')).toBeUndefined()
    expect(readCookie(undefined, 'coresdk_oidc')).toBeUndefined()
  })

  it('serialises an HttpOnly, SameSite=Lax cookie, Secure when asked, and clears with Max-Age=0', () => {
    expect(serializeCookie('v', { name: 'n', secure: true, path: '/', maxAge: 600 })).toBe(
      'n=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure',
    )
    expect(serializeCookie('', { name: 'n', secure: false, path: '/', maxAge: 0 })).toBe(
      'n=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    )
  })
})
