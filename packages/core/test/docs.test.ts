import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import * as snippets from './docs-snippets.ts'
import { hsClient, hsToken, SECRET } from './helpers.ts'

const page = readFileSync(new URL('../../../docs/sessions.md', import.meta.url), 'utf8')
const source = readFileSync(new URL('./docs-snippets.ts', import.meta.url), 'utf8')

function dedent(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n')
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length))
  return lines.map((l) => l.slice(indent)).join('\n')
}

const tested = new Set(
  [...source.matchAll(/\/\/ snippet: [\w-]+\n([\s\S]*?)\n\s*\/\/ end/g)].map((m) => dedent(m[1]!)),
)
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) =>
  dedent(m[1]!.replace(/^import .*\n/gm, '').replace(/^\n+/, '')),
)

describe('docs/sessions.md', () => {
  it('every TypeScript snippet of the page is one that is type-checked and run here (imports aside), or uses the test kit', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7)
    for (const block of blocks) {
      if (block.includes('describeSessionStore(')) continue
      expect(tested, `snippet not covered by docs-snippets.ts:\n${block}`).toContain(block)
    }
  })

  it('the snippets run: configure, create, get, list, authenticate, revoke, revoke-others, events, revoke-all', async () => {
    vi.stubEnv('CORESDK_JWT_SECRET', SECRET)
    const configured = snippets.configure()
    vi.unstubAllEnvs()
    expect(configured.config.tenantId).toBe('acme')
    await configured.close()
    const sdk = hsClient()
    const id = await snippets.create(sdk, { id_token: await hsToken({ sub: 'usr_2xK9' }) })
    expect((await snippets.get(sdk, id))?.userId).toBe('usr_2xK9')
    const browser = await snippets.rememberMe(sdk, { id_token: await hsToken({ sub: 'usr_2xK9' }) }, false)
    expect([browser.persistent, /Max-Age/i.test(browser.setCookie)]).toEqual([false, false])
    const remembered = await snippets.rememberMe(sdk, { id_token: await hsToken({ sub: 'usr_2xK9' }) }, true)
    expect([remembered.persistent, /Max-Age/i.test(remembered.setCookie)]).toEqual([true, true])
    await snippets.list(sdk, 'usr_2xK9')
    const token = await hsToken({ sub: 'usr_2xK9', sid: 'x' })
    expect((await snippets.authenticate(sdk, { authorization: `Bearer ${token}` })).ok).toBe(true)
    await snippets.revoke(sdk, id)
    expect((await snippets.get(sdk, id))?.isActive()).toBe(false)
    const kept = await snippets.create(sdk, { id_token: await hsToken({ sub: 'usr_2xK9', sid: 'kept' }) })
    const other = await snippets.create(sdk, { id_token: await hsToken({ sub: 'usr_2xK9', sid: 'other' }) })
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const off = snippets.events(sdk)
    // The other login, the two remember-me logins, and the session of the bearer token above.
    expect(await snippets.revokeOthers(sdk, 'usr_2xK9', kept)).toBe(4)
    expect((await snippets.get(sdk, other))?.isActive()).toBe(false)
    expect((await snippets.get(sdk, kept))?.isActive()).toBe(true)
    await snippets.revoke(sdk, kept)
    await new Promise((resolve) => setTimeout(resolve, 10))
    off()
    const written = log.mock.calls.map(([line]) => String(line)).filter((line) => line.startsWith('{"type"'))
    log.mockRestore()
    expect(written.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        type: 'session.revoked',
        sessionId: kept,
        userId: 'usr_2xK9',
        actor: 'service',
      }),
    ])
    await snippets.revokeAll(sdk, 'usr_2xK9')
    expect((await snippets.authenticate(sdk, { authorization: `Bearer ${token}` })).ok).toBe(false)
    await sdk.close()
  })
})
