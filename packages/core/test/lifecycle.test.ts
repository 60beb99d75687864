import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { faultyStore } from '../../testing/src/index.ts'
import { type LifecycleEvent, lifecycleEventTypes, MemorySessionStore } from '../src/index.ts'
import type { SessionStore } from '../src/store.ts'
import { AUDIENCE, bearer, hsClient, hsToken, ISSUER, SECRET } from './helpers.ts'

// The end-to-end event cases, in both modes and on Redis, are in @coresdk/sidecar (test/lifecycle-events.test.ts).
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

function record(sdk: ReturnType<typeof hsClient>): LifecycleEvent[] {
  const events: LifecycleEvent[] = []
  for (const type of lifecycleEventTypes) sdk.on(type, (event: LifecycleEvent) => void events.push(event))
  return events
}

describe('revoke the others', () => {
  it('over a store without revokeOthersForUser, lists and revokes one by one, keeping the session asked for', async () => {
    const memory = new MemorySessionStore()
    // The store as one written before the method existed: the optional method is absent.
    const store: SessionStore = faultyStore(memory)
    delete (store as { revokeOthersForUser?: unknown }).revokeOthersForUser
    expect(store.revokeOthersForUser).toBeUndefined()
    const sdk = hsClient({ sessions: { store } })
    const events = record(sdk)
    const [kept, other, third] = await Promise.all(
      ['a', 'b', 'c'].map(async (sid) => sdk.sessions().create({ id_token: await hsToken({ sid }) })),
    )
    expect(await sdk.sessions().revokeOthersForUser('usr_1', kept!.id)).toBe(2)
    expect((await sdk.sessions().get(kept!.id))?.isActive()).toBe(true)
    for (const gone of [other!, third!]) expect((await sdk.sessions().get(gone.id))?.revokedAt).not.toBeNull()
    await settle()
    expect(events.filter((e) => e.type === 'user.sessions_revoked')).toEqual([
      expect.objectContaining({ scope: 'others', keptSessionId: kept!.id, actor: 'service' }),
    ])
    await sdk.close()
    await memory.close()
  })

  it('refuses a logout with both others and everywhere, and one with others but no session', async () => {
    const sdk = hsClient()
    const created = await sdk.sessions().create({ id_token: await hsToken() })
    await expect(
      sdk.logout({ session: created, user: { sub: 'usr_1' }, others: true, everywhere: true }),
    ).rejects.toMatchObject({ code: 'invalid_request' })
    await expect(sdk.logout({ session: null, user: { sub: 'usr_1' }, others: true })).rejects.toMatchObject({
      code: 'invalid_request',
    })
    expect((await sdk.sessions().get(created.id))?.isActive()).toBe(true)
    await sdk.close()
  })
})

describe('sdk.on', () => {
  it('refuses a listener that is not a function, and stops calling one once unsubscribed', async () => {
    const sdk = hsClient()
    expect(() => sdk.on('session.created', 'nope' as never)).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    )
    const seen: string[] = []
    const off = sdk.on('session.created', (event) => void seen.push(event.sessionId))
    // The same function twice is two subscriptions, each with its own unsubscribe.
    const listener = (event: { sessionId: string }) => void seen.push(`twice:${event.sessionId}`)
    const offFirst = sdk.on('session.created', listener)
    sdk.on('session.created', listener)
    const first = await sdk.sessions().create({ id_token: await hsToken({ sid: 'one' }) })
    await settle()
    expect(seen).toEqual([first.id, `twice:${first.id}`, `twice:${first.id}`])
    off()
    offFirst()
    const second = await sdk.sessions().create({ id_token: await hsToken({ sid: 'two' }) })
    await settle()
    expect(seen.slice(3)).toEqual([`twice:${second.id}`])
    await sdk.close()
  })

  it('reports a change on the instance that made it, not on another sharing the store', async () => {
    const store = new MemorySessionStore()
    const [a, b] = [hsClient({ sessions: { store } }), hsClient({ sessions: { store } })]
    const [onA, onB] = [record(a), record(b)]
    const created = await a.sessions().create({ id_token: await hsToken() })
    await b.sessions().revoke(created.id, { actor: 'admin' })
    // A hears of the revocation through the store (and enforces it), but does not report B's change.
    expect((await a.authenticate({ cookie: created.setCookie.split(';')[0] })).ok).toBe(false)
    await settle()
    expect(onA.map((e) => e.type)).toEqual(['session.created'])
    expect(onB.map((e) => [e.type, e.actor])).toEqual([['session.revoked', 'admin']])
    await a.close()
    await b.close()
    await store.close()
  })

  it('reports auth.degraded once when the sidecar is unreachable and a verified token passes (failMode open)', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number }
        probe.close(() => resolve(port))
      })
    })
    const sdk = hsClient({
      mode: 'sidecar',
      sidecarAddr: `http://127.0.0.1:${port}`,
      failMode: 'open',
      jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], secret: SECRET },
    })
    const events = record(sdk)
    for (let i = 0; i < 3; i++) {
      const result = await sdk.authenticate(bearer(await hsToken({ sub: `usr_${i}` })))
      expect(result).toMatchObject({ ok: true, degraded: true })
    }
    await settle()
    expect(events).toEqual([
      expect.objectContaining({ type: 'auth.degraded', reason: 'sidecar_unavailable', actor: 'system' }),
    ])
    expect(Object.keys(events[0]!).sort()).toEqual(['actor', 'at', 'reason', 'tenantId', 'type'])
    await sdk.close()
  })
})
