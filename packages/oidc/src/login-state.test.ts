import { inspect } from 'node:util'
import { EncryptJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { deriveStateKeys, openLoginState, sealLoginState } from './login-state.ts'

const state = { state: 's-123', nonce: 'n-456', codeVerifier: 'v-789', returnTo: '/profile' }
const OLD = 'o'.repeat(32)
const NEW = 'n'.repeat(32)

describe('login-state cookie', () => {
  it('round-trips the state, and hides its values', async () => {
    const keys = await deriveStateKeys('x'.repeat(32))
    const sealed = await sealLoginState(state, keys, 600)
    for (const value of Object.values(state)) expect(sealed).not.toContain(value)
    expect(await openLoginState(sealed, keys)).toEqual(state)
    expect(
      await openLoginState(await sealLoginState({ ...state, persistent: false }, keys, 600), keys),
    ).toEqual({
      ...state,
      persistent: false,
    })
  })

  it('refuses a cookie sealed under another secret, tampered with, or expired', async () => {
    const keys = await deriveStateKeys('x'.repeat(32))
    const other = await deriveStateKeys('y'.repeat(32))
    const sealed = await sealLoginState(state, keys, 600)
    expect(await openLoginState(sealed, other)).toBeNull()
    const parts = sealed.split('.')
    // The first character: the last one's low bits may be unused in base64url, so changing it may change nothing.
    parts[3] = `${parts[3]!.startsWith('A') ? 'B' : 'A'}${parts[3]!.slice(1)}`
    expect(await openLoginState(parts.join('.'), keys)).toBeNull()
    expect(await openLoginState(await sealLoginState(state, keys, -60), keys)).toBeNull()
    expect(await openLoginState(undefined, keys)).toBeNull()
    expect(await openLoginState('not a jwe', keys)).toBeNull()
  })

  it('refuses a secret shorter than 32 bytes, naming its position in a list and never its value', async () => {
    await expect(deriveStateKeys('short')).rejects.toMatchObject({ code: 'invalid_config' })
    const error = await deriveStateKeys([NEW, 'short-secret-value']).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'invalid_config' })
    expect(String((error as Error).message)).toContain('cookieSecret (secret 2 of 2)')
    expect(inspect(error)).not.toContain('short-secret-value')
    await expect(deriveStateKeys([])).rejects.toMatchObject({ code: 'invalid_config' })
  })

  it('rotation: seals with the newest secret, names it by a key id, and opens a state sealed with an older one', async () => {
    const before = await deriveStateKeys(OLD)
    const during = await deriveStateKeys([NEW, OLD])
    const after = await deriveStateKeys(NEW)
    const started = await sealLoginState(state, before, 600)
    expect(await openLoginState(started, during)).toEqual(state)
    const sealed = await sealLoginState(state, during, 600)
    const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString()) as { kid: string }
    expect(header.kid).toBe(after[0]!.id)
    expect(header.kid).not.toBe(before[0]!.id)
    // The id derives from the key, never shows the secret.
    expect(sealed).not.toContain(NEW)
    expect(await openLoginState(sealed, after)).toEqual(state)
    // Once the old secret is dropped, what it sealed is refused (the login starts again).
    expect(await openLoginState(started, after)).toBeNull()
  })

  it('opens a state sealed before key ids, with whichever key sealed it', async () => {
    const keys = await deriveStateKeys([NEW, OLD])
    const legacy = await new EncryptJWT({ s: 's', n: 'n', v: 'v', r: '/' })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setExpirationTime('60s')
      .encrypt(keys[1]!.key)
    expect(await openLoginState(legacy, keys)).toEqual({
      state: 's',
      nonce: 'n',
      codeVerifier: 'v',
      returnTo: '/',
    })
  })
})
