import { CoreSDKError } from '@coresdk/core'
import {
  AUDIT_GENESIS,
  type AuditHead,
  type AuditSink,
  auditLine,
  createSharedAuditSink,
  parseAuditRecord,
} from '@coresdk/core/audit'
import type { Redis } from 'ioredis'
import { storeError } from './errors.ts'
import type { RedisClient } from './redis-session-store.ts'
import { Script } from './scripts.ts'

/** Options of {@link createRedisAuditSink}. */
export interface RedisAuditSinkOptions {
  /** The ioredis client the sink writes through; the sink never closes it. */
  client: RedisClient
  /** The stream's key (no `{`, `}` or spaces, as the store's `keyPrefix`). @default 'coresdk:audit' */
  stream?: string
  /** The deadline of one append, retries included, in ms. @default 2000 */
  timeout?: number
}

// Appends only where the stream's tail is still the record the caller chained from (ARGV[1], its hash): otherwise it
// writes nothing and returns the tail's record, so the caller chains again after it. Each entry holds the record's
// hash (`h`, compared here) and its line (`r`). ARGV[2..] alternate hash and line.
const APPEND = new Script(`
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local tail, line = '${AUDIT_GENESIS}', false
if last[1] then
  local f = last[1][2]
  for i = 1, #f, 2 do
    if f[i] == 'h' then tail = f[i + 1] elseif f[i] == 'r' then line = f[i + 1] end
  end
end
if tail ~= ARGV[1] then return {0, line} end
for i = 2, #ARGV, 2 do redis.call('XADD', KEYS[1], '*', 'h', ARGV[i], 'r', ARGV[i + 1]) end
return {1}
`)

function invalid(setting: string, accepts: string): CoreSDKError {
  return new CoreSDKError('invalid_config', `Invalid Redis audit sink ${setting}: ${accepts}.`)
}

/** The head a stored line ends the chain at; a tail that is not a record stops the sink (the chain cannot go on). */
function headOf(line: unknown): AuditHead {
  if (line === false || line === null || line === undefined) return { seq: 0, hash: AUDIT_GENESIS }
  const record = parseAuditRecord(String(line))
  if (record === null)
    throw new CoreSDKError('internal_error', 'The audit stream’s last entry is not an audit record.')
  return { seq: record.seq, hash: record.hash }
}

/** The record line of a stream entry's fields (`h`, hash, `r`, line); false when it has none. */
function lineOf(fields: string[] | undefined): string | false {
  if (fields === undefined) return false
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'r') return fields[i + 1]!
  return '{}'
}

/**
 * An audit sink appending to a Redis Stream, one entry per record (`h`: its hash, `r`: its line). Any number of
 * instances may share one stream: a Lua script appends a batch only where the tail is still the record it was chained
 * after, and a sink that lost the race chains again after the new tail, so the stream holds one chain. Never trim
 * the stream (`MAXLEN`): the chain would then start past its genesis.
 * @example
 * createAuditTrail(sdk, { sink: createRedisAuditSink({ client: new Redis(process.env.REDIS_URL) }) })
 */
export function createRedisAuditSink(options: RedisAuditSinkOptions): AuditSink {
  if (typeof options?.client?.evalsha !== 'function')
    throw invalid('client', 'it accepts an ioredis Redis or Cluster client')
  const stream = options.stream ?? 'coresdk:audit'
  if (typeof stream !== 'string' || stream === '' || stream.length > 512 || /[{}\s]/.test(stream))
    throw invalid('stream', 'it accepts a key of 1 to 512 characters without {, } or spaces')
  const timeout = options.timeout ?? 2000
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw invalid('timeout', 'it accepts a positive number of ms')
  const client = options.client as unknown as Redis
  return createSharedAuditSink(
    {
      readHead: async () => headOf(lineOf((await client.xrevrange(stream, '+', '-', 'COUNT', 1))[0]?.[1])),
      appendAfter: async (after, records) => {
        const args: string[] = [after.hash]
        for (const record of records) args.push(record.hash, auditLine(record))
        const [written, tail] = (await APPEND.run(client, stream, args)) as [number, string | null]
        return written === 1 ? null : headOf(tail)
      },
    },
    {
      timeout,
      timedOut: () => new CoreSDKError('store_unavailable', `Redis did not answer within ${timeout} ms.`),
      toError: storeError,
    },
  )
}

/** Reads every record line of an audit stream, oldest first, a page at a time (for `coresdk audit verify --redis`). */
export async function* readRedisAuditStream(
  client: RedisClient,
  stream = 'coresdk:audit',
  pageSize = 1000,
): AsyncGenerator<string> {
  const redis = client as unknown as Redis
  let start = '-'
  for (;;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', pageSize)
    // An entry without a record line reads as a malformed record: the verifier names it.
    for (const [, fields] of page) yield lineOf(fields) || '{}'
    if (page.length < pageSize) return
    start = `(${page[page.length - 1]![0]}`
  }
}
