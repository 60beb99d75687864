import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

// Every script takes the user's index as KEYS[1] (which routes it to the user's Cluster slot) and the user's key
// base as ARGV[1]; the keys it builds from the base share the index's hash tag, so they live on the same slot.
// Record fields are stored JSON-encoded, one hash field each; `_bind` holds the record's encoded credential key.

const LIVE = `
local function is_live(rk, now)
  local f = redis.call('HMGET', rk, 'retainUntil', 'revokedAt', 'expiresAt', 'absoluteExpiresAt')
  if not f[1] then return false end
  if tonumber(f[1]) <= now then return false end
  if f[2] ~= 'null' then return true end
  return tonumber(f[3]) > now and tonumber(f[4]) > now
end
local function touch_index(idx, now)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
  local last = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', idx, last[2]) end
end
`

/** ARGV: base, id, bind ('' for none), now, issuedAt, retainUntil, then field/value pairs. → {created, fields}. */
const CREATE = `${LIVE}
local base, id, bind = ARGV[1], ARGV[2], ARGV[3]
local now, issued, retain = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
if bind ~= '' then
  local bound = redis.call('GET', base .. 'k:' .. bind)
  if bound and is_live(base .. 's:' .. bound, now) then
    return {0, redis.call('HGETALL', base .. 's:' .. bound)}
  end
end
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
local marker = redis.call('GET', base .. 'rev')
if marker and tonumber(marker) >= issued then
  for i = 1, #fields, 2 do
    if fields[i] == 'revokedAt' and fields[i + 1] == 'null' then fields[i + 1] = marker end
  end
end
if tonumber(retain) <= now then return {1, fields} end
local rk = base .. 's:' .. id
redis.call('DEL', rk)
redis.call('HSET', rk, unpack(fields))
redis.call('PEXPIREAT', rk, retain)
if bind ~= '' then redis.call('SET', base .. 'k:' .. bind, id, 'PXAT', retain) end
redis.call('ZADD', KEYS[1], retain, id)
touch_index(KEYS[1], now)
return {1, fields}
`

/** ARGV: base, bind. → fields of the session bound to the key, or {}. */
const GET_BY_BIND = `
local id = redis.call('GET', ARGV[1] .. 'k:' .. ARGV[2])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. 's:' .. id)
`

/** ARGV: base, id, now, then field/value pairs of the patch. → fields, or {} when absent. */
const UPDATE = `${LIVE}
local base, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local rk = base .. 's:' .. id
if redis.call('EXISTS', rk) == 0 then return {} end
local allowed = { lastSeenAt = true, expiresAt = true, secretHash = true, tokens = true, claims = true, retainUntil = true }
local fields, retain = {}, nil
for i = 4, #ARGV, 2 do
  if allowed[ARGV[i]] then
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = ARGV[i + 1]
    if ARGV[i] == 'retainUntil' then retain = ARGV[i + 1] end
  end
end
if #fields > 0 then redis.call('HSET', rk, unpack(fields)) end
if retain then
  redis.call('PEXPIREAT', rk, retain)
  local bind = redis.call('HGET', rk, '_bind')
  if bind and bind ~= '' and redis.call('GET', base .. 'k:' .. bind) == id then
    redis.call('PEXPIREAT', base .. 'k:' .. bind, retain)
  end
  redis.call('ZADD', KEYS[1], retain, id)
  touch_index(KEYS[1], now)
end
return redis.call('HGETALL', rk)
`

/** ARGV: base, id, at, channel. Publishes the event when this call revoked it. → fields, or {} when absent. */
const REVOKE = `
local base, id, at, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local rk = base .. 's:' .. id
if redis.call('EXISTS', rk) == 0 then return {} end
if redis.call('HGET', rk, 'revokedAt') == 'null' then
  redis.call('HSET', rk, 'revokedAt', at)
  local f = redis.call('HMGET', rk, 'tenantId', 'id', 'key', 'userId')
  redis.call('PUBLISH', channel, '{"kind":"session","tenantId":' .. f[1] .. ',"sessionId":' .. f[2] ..
    ',"key":' .. f[3] .. ',"userId":' .. f[4] .. ',"at":' .. at .. '}')
end
return redis.call('HGETALL', rk)
`

/** ARGV: base, at, retainFor, now, channel, event JSON. → the ids it revoked, as JSON strings. */
const REVOKE_ALL = `
local base, at, keep, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local mk = base .. 'rev'
local current = redis.call('GET', mk)
local marker = at
if current and tonumber(current) > tonumber(at) then marker = current end
local ttl = redis.call('PTTL', mk)
if ttl > keep then keep = ttl end
redis.call('SET', mk, marker, 'PX', keep)
local revoked = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local rk = base .. 's:' .. id
  if redis.call('HGET', rk, 'revokedAt') == 'null' then
    redis.call('HSET', rk, 'revokedAt', at)
    revoked[#revoked + 1] = redis.call('HGET', rk, 'id')
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PUBLISH', ARGV[5], ARGV[6])
return revoked
`

/** ARGV: base, now. → a list of field lists, one per retained session of the user. */
const LIST = `${LIVE}
local base, now = ARGV[1], ARGV[2]
touch_index(KEYS[1], now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', base .. 's:' .. id)
  if #fields > 0 then out[#out + 1] = fields end
end
return out
`

/** A Lua script run with EVALSHA, falling back to EVAL when the server does not have it cached. */
export class Script {
  readonly #lua: string
  readonly #sha: string

  constructor(lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
  }

  /** Runs the script with one key (the user's index) and string arguments. */
  async run(client: Redis, key: string, args: Array<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, 1, key, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return client.eval(this.#lua, 1, key, ...args)
    }
  }
}

/** The store's scripts. */
export const scripts = {
  create: new Script(CREATE),
  getByBind: new Script(GET_BY_BIND),
  update: new Script(UPDATE),
  revoke: new Script(REVOKE),
  revokeAll: new Script(REVOKE_ALL),
  list: new Script(LIST),
}
