import { MemorySessionStore } from '@coresdk/core'
import { describe, expect, it } from 'vitest'
import { faultyStore } from './faulty-store.ts'
import { makeSessionRecord } from './records.ts'

const TIMEOUT = Symbol('timeout')
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<typeof TIMEOUT>((resolve) => setTimeout(() => resolve(TIMEOUT), ms))])

describe('faultyStore', () => {
  it('passes calls through in ok mode', async () => {
    const store = faultyStore(new MemorySessionStore({ sweepInterval: 0 }))
    const record = makeSessionRecord({ tenantId: 't' })
    expect((await store.create('t', record)).created).toBe(true)
    expect(await store.get('t', record.id)).toEqual(record)
    expect(store.calls).toBe(2)
  })

  it('rejects every call in failing mode, and recovers when switched back', async () => {
    const store = faultyStore(new MemorySessionStore({ sweepInterval: 0 }), { mode: 'failing' })
    const record = makeSessionRecord({ tenantId: 't' })
    await expect(store.create('t', record)).rejects.toThrow('injected fault')
    await expect(store.revokeAllForUser('t', 'u', 1, 1)).rejects.toThrow()
    store.setMode('ok')
    expect((await store.create('t', record)).created).toBe(true)
  })

  it('never settles in silent mode', async () => {
    const store = faultyStore(new MemorySessionStore({ sweepInterval: 0 }))
    store.setMode('silent')
    expect(await within(store.get('t', 'sess_x'), 100)).toBe(TIMEOUT)
    expect(store.pending).toBe(1)
  })

  it('answers only after the delay in slow mode', async () => {
    const store = faultyStore(new MemorySessionStore({ sweepInterval: 0 }))
    store.setMode('slow', { delayMs: 300 })
    const call = store.listForUser('t', 'u')
    expect(await within(call, 20)).toBe(TIMEOUT)
    expect(await call).toEqual([])
  })

  it('passes revocation events through whatever the mode', async () => {
    const inner = new MemorySessionStore({ sweepInterval: 0 })
    const store = faultyStore(inner)
    const events: unknown[] = []
    store.onRevocation?.((event) => events.push(event))
    store.setMode('failing')
    await inner.revokeAllForUser('t', 'u', 5, 1000)
    expect(events).toEqual([{ kind: 'user', tenantId: 't', userId: 'u', at: 5 }])
  })
})
