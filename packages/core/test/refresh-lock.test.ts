import { describe, expect, it } from 'vitest'
import { CoreSDKClient, CoreSDKError, MemorySessionStore, type TokenRefresher } from '../src/index.ts'
import { hsClient, hsToken } from './helpers.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('one refresh per session over a store with a refresh lock', () => {
  it('a waiter gives up with refresh_failed once the lock is held past refreshLockTtl + storeTimeout', async () => {
    const store = new MemorySessionStore()
    const refresher: TokenRefresher = { refresh: async () => ({ access_token: 'never' }) }
    const sdk = hsClient({
      sessions: { store, tokenRefresher: refresher, refreshLockTtl: 200, storeTimeout: 100 },
    })
    const created = await sdk.sessions().create({ id_token: await hsToken(), refresh_token: 'rt0' })
    // A holder with a far longer lease than this instance's setting (another instance's configuration).
    await store.acquireRefreshLock('default', created.id, 60_000)
    const started = Date.now()
    await expect(sdk.sessions().refresh(created.id)).rejects.toMatchObject({ code: 'refresh_failed' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(Date.now() - started).toBeLessThan(1000)
    expect((await sdk.sessions().get(created.id))?.isActive()).toBe(true)
    await sdk.close()
    await store.close()
  })

  it('when the holder’s refresh fails, a waiting instance tries next and gets the new tokens', async () => {
    const store = new MemorySessionStore()
    let calls = 0
    const refresher: TokenRefresher = {
      async refresh(refreshToken) {
        calls++
        await sleep(50)
        if (calls === 1) throw new CoreSDKError('refresh_failed')
        return { access_token: `at-${calls}`, refresh_token: `${refreshToken}-next` }
      },
    }
    const [a, b] = [0, 1].map(() => hsClient({ sessions: { store, tokenRefresher: refresher } }))
    const created = await a!.sessions().create({ id_token: await hsToken(), refresh_token: 'rt0' })
    const first = a!.sessions().refresh(created.id)
    await sleep(10)
    const second = b!.sessions().refresh(created.id)
    await expect(first).rejects.toMatchObject({ code: 'refresh_failed' })
    expect((await second).isActive()).toBe(true)
    expect(calls).toBe(2)
    expect(await b!.sessions().getTokens(created.id)).toMatchObject({
      accessToken: 'at-2',
      refreshToken: 'rt0-next',
    })
    await Promise.all([a!.close(), b!.close()])
    await store.close()
  })

  it('refreshLockTtl is validated, naming the setting', () => {
    for (const value of [0, 99, 300_001, 1.5]) {
      expect(() => hsClient({ sessions: { refreshLockTtl: value } })).toThrow(/sessions\.refreshLockTtl/)
    }
    expect(
      () => new CoreSDKClient({ mode: 'sidecar', env: { CORESDK_SESSION_REFRESH_LOCK_TTL_MS: 'soon' } }),
    ).toThrow(
      /CORESDK_SESSION_REFRESH_LOCK_TTL_MS="?soon"? is invalid; it accepts an integer from 100 to 300000/,
    )
    expect(hsClient().config.sessions.refreshLockTtl).toBe(10_000)
  })
})
