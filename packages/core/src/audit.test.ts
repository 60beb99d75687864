import { describe, expect, it } from 'vitest'
import {
  AUDIT_GENESIS,
  type AuditEntry,
  type AuditFailure,
  type AuditRecord,
  auditHash,
  auditLine,
  canonicalJson,
  chainAuditRecords,
  createAuditTrail,
  jsonLinesAuditSink,
  verifyAuditChain,
} from './audit.ts'
import { CoreSDKClient } from './client.ts'
import { MemorySessionStore } from './memory-session-store.ts'

const entry = (n: number): AuditEntry => ({
  at: 1_700_000_000_000 + n,
  type: 'session.revoked',
  tenantId: 'acme',
  actor: 'admin',
  userId: `usr_${n}`,
  sessionId: `sess_${n}`,
  reason: 'requested',
})

async function chainOf(n: number): Promise<string[]> {
  const records = await chainAuditRecords(
    null,
    Array.from({ length: n }, (_, i) => entry(i + 1)),
  )
  return records.map(auditLine)
}

describe('the audit record chain', () => {
  it('canonical JSON sorts keys at every depth and leaves out undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":null,"z":1}]},"b":1}',
    )
    // Control characters and lone surrogates are escaped, so the text encodes to well-formed UTF-8.
    expect(canonicalJson({ s: '\u001b[31m\ud800' })).toBe('{"s":"\\u001b[31m\\ud800"}')
  })

  it('chains records from the genesis value: seq from 1, prev the previous hash, hash over the rest', async () => {
    const records = await chainAuditRecords(null, [entry(1), entry(2)])
    expect(records[0]).toMatchObject({ v: 1, seq: 1, prev: AUDIT_GENESIS })
    expect(records[1]!.prev).toBe(records[0]!.hash)
    expect(records[1]!.seq).toBe(2)
    expect(await auditHash(records[1]!)).toBe(records[1]!.hash)
    // The known answer: SHA-256 of the canonical form without hash, computed independently of auditHash.
    const { hash, ...rest } = records[0]!
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(rest))),
    )
    expect(hash).toBe([...digest].map((b) => b.toString(16).padStart(2, '0')).join(''))
  })

  it('an intact chain verifies, with its count and head', async () => {
    const lines = await chainOf(5)
    const result = await verifyAuditChain([...lines, ''])
    expect(result).toEqual({
      ok: true,
      count: 5,
      head: { seq: 5, hash: JSON.parse(lines[4]!).hash },
    })
    expect(await verifyAuditChain([])).toEqual({ ok: true, count: 0, head: { seq: 0, hash: AUDIT_GENESIS } })
  })

  it('an altered record is the first broken link, named by position, seq and reason', async () => {
    const lines = await chainOf(5)
    lines[2] = lines[2]!.replace('"actor":"admin"', '"actor":"user"')
    expect(await verifyAuditChain(lines)).toMatchObject({ ok: false, position: 3, seq: 3, reason: 'altered' })
  })

  it('an altered record given a fresh hash breaks the next link', async () => {
    const lines = await chainOf(4)
    const record = JSON.parse(lines[1]!) as AuditRecord
    record.userId = 'usr_someone_else'
    record.hash = await auditHash(record)
    lines[1] = auditLine(record)
    expect(await verifyAuditChain(lines)).toMatchObject({
      ok: false,
      position: 3,
      seq: 3,
      reason: 'broken_link',
    })
  })

  it('a deleted record is a missing seq; two deleted are a range', async () => {
    const lines = await chainOf(6)
    expect(await verifyAuditChain(lines.filter((_, i) => i !== 2))).toMatchObject({
      ok: false,
      position: 3,
      seq: 4,
      reason: 'missing',
      detail: 'seq 3 is missing',
    })
    expect(await verifyAuditChain(lines.filter((_, i) => i !== 2 && i !== 3))).toMatchObject({
      reason: 'missing',
      detail: 'seq 3 to 4 are missing',
    })
    // The last record deleted: still a valid chain, shorter. Only an anchored head catches it.
    const cut = lines.slice(0, 5)
    expect(await verifyAuditChain(cut)).toMatchObject({ ok: true, count: 5 })
    const head = JSON.parse(lines[5]!).hash as string
    expect(await verifyAuditChain(cut, { expectHead: head })).toMatchObject({
      ok: false,
      reason: 'head_mismatch',
      seq: 5,
    })
    expect(await verifyAuditChain(lines, { expectHead: head.toUpperCase() })).toMatchObject({ ok: true })
  })

  it('a swapped pair is reordered, at the first of the two', async () => {
    const lines = await chainOf(5)
    ;[lines[1], lines[2]] = [lines[2]!, lines[1]!]
    expect(await verifyAuditChain(lines)).toMatchObject({
      ok: false,
      position: 2,
      seq: 3,
      reason: 'reordered',
    })
    const repeated = await chainOf(3)
    expect(await verifyAuditChain([...repeated, repeated[1]!])).toMatchObject({
      ok: false,
      position: 4,
      reason: 'reordered',
    })
  })

  it('a chain whose start was cut has a bad genesis; so does a first record with another prev', async () => {
    const lines = await chainOf(3)
    expect(await verifyAuditChain(lines.slice(1))).toMatchObject({
      ok: false,
      position: 1,
      seq: 2,
      reason: 'bad_genesis',
    })
    const [first] = await chainAuditRecords({ seq: 0, hash: 'f'.repeat(64) }, [entry(1)])
    expect(await verifyAuditChain([auditLine(first!)])).toMatchObject({ reason: 'bad_genesis', position: 1 })
  })

  it('a line that is not a record is malformed', async () => {
    const lines = await chainOf(2)
    expect(await verifyAuditChain([lines[0], '{"v":1', lines[1]])).toMatchObject({
      ok: false,
      position: 2,
      seq: null,
      reason: 'malformed',
    })
    expect(await verifyAuditChain([JSON.stringify({ ...JSON.parse(lines[0]!), v: 2 })])).toMatchObject({
      reason: 'malformed',
    })
  })
})

describe('createAuditTrail', () => {
  const key = crypto.getRandomValues(new Uint8Array(32))
  const client = () =>
    new CoreSDKClient({
      env: {},
      tenantId: 'acme',
      jwt: { issuer: 'https://id.example', audience: 'api', algorithms: ['HS256'], secret: 'x'.repeat(32) },
      sessions: { store: new MemorySessionStore(), encryptionKey: key },
    })

  it('records every revoke of concurrent calls in one well-formed chain, with the actor', async () => {
    const sdk = client()
    const lines: string[] = []
    const trail = createAuditTrail(sdk, { sink: jsonLinesAuditSink({ write: (l) => lines.push(l) }) })
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sdk.sessions().revokeAllForUser(`usr_${i}`, { actor: i % 2 ? 'admin' : 'user' }),
      ),
    )
    await trail.flush()
    const records = lines.join('').trim().split('\n')
    expect(records).toHaveLength(20)
    expect(await verifyAuditChain(records)).toMatchObject({ ok: true, count: 20 })
    expect(records.map((r) => JSON.parse(r).actor)).toContain('admin')
    expect(JSON.parse(records[0]!)).toMatchObject({
      type: 'user.sessions_revoked',
      scope: 'all',
      tenantId: 'acme',
    })
    await trail.close()
    await sdk.close()
  })

  it('a failing sink never fails the call: the records are reported lost, and the chain goes on after', async () => {
    const sdk = client()
    const lines: string[] = []
    let failing = true
    const failures: AuditFailure[] = []
    const trail = createAuditTrail(sdk, {
      sink: jsonLinesAuditSink({
        write: (l) => {
          if (failing) throw new Error('disk full')
          lines.push(l)
        },
      }),
      onError: (failure) => {
        failures.push(failure)
        throw new Error('a handler that throws changes nothing')
      },
    })
    await expect(sdk.sessions().revokeAllForUser('usr_a')).resolves.toBe(0)
    await trail.flush()
    failing = false
    await sdk.sessions().revokeAllForUser('usr_b')
    await trail.flush()
    expect(failures).toEqual([expect.objectContaining({ code: 'sink_failed', lost: 1 })])
    expect(trail.lost).toBe(1)
    const records = lines.join('').trim().split('\n')
    expect(records).toHaveLength(1)
    expect(await verifyAuditChain(records)).toMatchObject({ ok: true, count: 1 })
    await trail.close()
    await sdk.close()
  })

  it('a sink that never answers holds the queue to maxQueue; the rest is dropped and reported', async () => {
    const sdk = client()
    const failures: AuditFailure[] = []
    createAuditTrail(sdk, {
      sink: { append: () => new Promise(() => {}) },
      maxQueue: 2,
      onError: (failure) => failures.push(failure),
    })
    const started = performance.now()
    for (let i = 0; i < 5; i++) await sdk.sessions().revokeAllForUser(`usr_${i}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(performance.now() - started).toBeLessThan(1000)
    // One batch is in the hung append, two wait, two were dropped.
    expect(failures.map((f) => f.code)).toEqual(['queue_full', 'queue_full'])
    await sdk.close()
  })

  it('refuses a sink without append', () => {
    const sdk = client()
    expect(() => createAuditTrail(sdk, { sink: {} as never })).toThrow(/append/)
    expect(() => jsonLinesAuditSink({} as never)).toThrow(/write/)
  })
})
