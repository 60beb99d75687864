import { describe, expect, it } from 'vitest'
import { parseRevocationEvent } from './revocation-event.ts'

describe('parseRevocationEvent, the one reader of both stores’ revocation messages', () => {
  it('reads a session event and a user event', () => {
    const session = { kind: 'session', tenantId: 't', sessionId: 'sess_1', key: 'sid:a', userId: 'u', at: 7 }
    expect(parseRevocationEvent(JSON.stringify(session))).toEqual(session)
    expect(parseRevocationEvent(JSON.stringify({ ...session, key: null }))).toEqual({ ...session, key: null })
    const user = { kind: 'user', tenantId: 't', userId: 'u\ud800', at: 9 }
    expect(parseRevocationEvent(JSON.stringify(user))).toEqual(user)
  })

  it('keeps only the fields of an event, and reads a session without a string key as unbound', () => {
    expect(
      parseRevocationEvent(
        '{"kind":"session","tenantId":"t","sessionId":"s","userId":"u","at":1,"extra":true}',
      ),
    ).toEqual({ kind: 'session', tenantId: 't', sessionId: 's', key: null, userId: 'u', at: 1 })
    expect(
      parseRevocationEvent('{"kind":"user","tenantId":"t","userId":"u","at":1,"sessionId":"s"}'),
    ).toEqual({
      kind: 'user',
      tenantId: 't',
      userId: 'u',
      at: 1,
    })
  })

  it('returns null for anything that is not an event', () => {
    for (const text of [
      '',
      'not json',
      'null',
      '42',
      '"user"',
      '[]',
      '{"kind":"user","tenantId":"t","userId":"u"}',
      '{"kind":"user","tenantId":"t","userId":1,"at":1}',
      '{"kind":"user","tenantId":null,"userId":"u","at":1}',
      '{"kind":"session","tenantId":"t","userId":"u","at":1}',
      '{"kind":"other","tenantId":"t","userId":"u","at":1}',
      '{"kind":"user","tenantId":"t","userId":"u","at":"1"}',
    ])
      expect(parseRevocationEvent(text), text).toBeNull()
  })
})
