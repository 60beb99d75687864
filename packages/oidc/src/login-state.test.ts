import { describe, expect, it } from 'vitest'
import { deriveStateKey, openLoginState, sealLoginState } from './login-state.ts'

const state = { state: 's-123', nonce: 'n-456', codeVerifier: 'v-789', returnTo: '/profile' }

describe('login-state cookie', () => {
  it('round-trips the state, and hides its values', async () => {
    const key = await deriveStateKey('x'.repeat(32))
    const sealed = await sealLoginState(state, key, 600)
    for (const value of Object.values(state)) expect(sealed).not.toContain(value)
    expect(await openLoginState(sealed, key)).toEqual(state)
  })

  it('refuses a cookie sealed under another secret, tampered with, or expired', async () => {
    const key = await deriveStateKey('x'.repeat(32))
    const other = await deriveStateKey('y'.repeat(32))
    const sealed = await sealLoginState(state, key, 600)
    expect(await openLoginState(sealed, other)).toBeNull()
    const parts = sealed.split('.')
    // The first character: the last one's low bits may be unused in base64url, so changing it may change nothing.
    parts[3] = `${parts[3]!.startsWith('A') ? 'B' : 'A'}${parts[3]!.slice(1)}`
    expect(await openLoginState(parts.join('.'), key)).toBeNull()
    expect(await openLoginState(await sealLoginState(state, key, -60), key)).toBeNull()
    expect(await openLoginState(undefined, key)).toBeNull()
  })

  it('refuses a secret shorter than 32 bytes', async () => {
    await expect(deriveStateKey('short')).rejects.toMatchObject({ code: 'invalid_config' })
  })
})
