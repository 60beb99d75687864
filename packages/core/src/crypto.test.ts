import { describe, expect, it } from 'vitest'
import { base64UrlEncode, keyId, Sealer } from './crypto.ts'

const key = (fill: number) => new Uint8Array(32).fill(fill)

describe('Sealer under rotating keys', () => {
  it('seals with the newest key, named by its key id, and opens with it', async () => {
    const sealer = new Sealer([key(2), key(1)])
    const sealed = await sealer.seal('tokens')
    const [id, body] = sealed.split('.')
    expect(id).toBe(await keyId(key(2), 'sealer'))
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(await sealer.open(sealed)).toBe('tokens')
    expect(await sealer.isCurrent(sealed)).toBe(true)
  })

  it('opens what an older key sealed, while that key is listed, and refuses it once dropped', async () => {
    const sealed = await new Sealer([key(1)]).seal('tokens')
    const rotating = new Sealer([key(2), key(1)])
    expect(await rotating.open(sealed)).toBe('tokens')
    expect(await rotating.isCurrent(sealed)).toBe(false)
    expect(await new Sealer([key(2)]).open(sealed)).toBeNull()
  })

  it('never tries a key the id does not name, and refuses a forged id or body', async () => {
    const sealer = new Sealer([key(2), key(1)])
    const sealed = await sealer.seal('tokens')
    const [, body] = sealed.split('.')
    expect(await sealer.open(`${await keyId(key(1), 'sealer')}.${body}`)).toBeNull()
    expect(await sealer.open(`AAAAAAAA.${body}`)).toBeNull()
    expect(await sealer.open(`${sealed.slice(0, -2)}AA`)).toBeNull()
    expect(await sealer.open('')).toBeNull()
  })

  it('opens a value sealed before keys had ids (no id) with whichever listed key sealed it', async () => {
    // The earlier format: base64url(iv ‖ ciphertext ‖ tag), no id.
    const raw = await crypto.subtle.importKey('raw', key(1), 'AES-GCM', false, ['encrypt'])
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, raw, new TextEncoder().encode('old')),
    )
    const legacy = base64UrlEncode(new Uint8Array([...iv, ...ct]))
    expect(await new Sealer([key(2), key(1)]).open(legacy)).toBe('old')
    expect(await new Sealer([key(2)]).open(legacy)).toBeNull()
  })

  it('derives key ids per purpose, and never shows the key', async () => {
    const id = await keyId(key(7), 'sealer')
    expect(id).toHaveLength(8)
    expect(id).not.toBe(await keyId(key(7), 'login-state'))
    expect(id).not.toContain(base64UrlEncode(key(7)).slice(0, 8))
  })
})
