import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** The most sessions one script reads or revokes: list and revoke-all page through a larger index. */
export const PAGE_SIZE = 500

/** The most ended (revoked or expired) sessions kept listed per user, beside the active ones. */
export const ENDED_LISTED = 100

// Every script takes the user's index as KEYS[1] (which routes it to the user's Cluster slot) and the user's key
// base as ARGV[1]; the keys it builds from the base share the index's hash tag, so they live on the same slot.
// Record fields are stored JSON-encoded, one hash field each; `_bind` holds the record's encoded credential key.
//
// Per user: `idx` holds the active sessions scored by creation (oldest first, for the cap), `exp` the same ids
// scored by when each stops being active (for pruning), `end` the last ENDED_LISTED ended ones scored by their
// retention (for listing). A session leaves `idx` and `exp` when revoked or expired; its hash and key binding stay
// until its retainUntil, so a revoked session's credential stays refused however many came after it.

const HELPERS = `
local PAGE, ENDED = ${PAGE_SIZE}, ${ENDED_LISTED}
local function is_live(rk, now)
  local f = redis.call('HMGET', rk, 'retainUntil', 'revokedAt', 'expiresAt', 'absoluteExpiresAt')
  if not f[1] then return false end
  if tonumber(f[1]) <= now then return false end
  if f[2] ~= 'null' then return true end
  return tonumber(f[3]) > now and tonumber(f[4]) > now
end
-- Moves a session from the active index to the recently ended, keeping at most ENDED of those.
local function ended(base, id, retain)
  redis.call('ZREM', base .. 'idx', id)
  redis.call('ZREM', base .. 'exp', id)
  if not retain then return end
  redis.call('ZADD', base .. 'end', retain, id)
  local n = redis.call('ZCARD', base .. 'end')
  if n > ENDED then redis.call('ZREMRANGEBYRANK', base .. 'end', 0, n - ENDED - 1) end
end
-- Ends what has stopped being active (at most PAGE sessions a call) and forgets what is no longer retained.
local function prune(base, now)
  redis.call('ZREMRANGEBYSCORE', base .. 'end', '-inf', now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', base .. 'exp', '-inf', now, 'LIMIT', 0, PAGE)) do
    local retain = redis.call('HGET', base .. 's:' .. id, 'retainUntil')
    if retain and tonumber(retain) <= now then retain = false end
    ended(base, id, retain)
  end
end
-- The index keys live as long as their last member needs them.
local function expire_index(base)
  local last = redis.call('ZRANGE', base .. 'exp', -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', base .. 'exp', last[2])
    redis.call('PEXPIREAT', base .. 'idx', last[2])
  end
  local kept = redis.call('ZRANGE', base .. 'end', -1, -1, 'WITHSCORES')
  if kept[2] then redis.call('PEXPIREAT', base .. 'end', kept[2]) end
end
local function session_event(f, at)
  return '{"kind":"session","tenantId":' .. f[2] .. ',"sessionId":' .. f[3] .. ',"key":' .. f[4] ..
    ',"userId":' .. f[5] .. ',"at":' .. at .. '}'
end
-- Revokes one session at 'at', published on 'channel' unless that is nil. Returns its fields {revokedAt, tenantId,
-- id, key, userId, retainUntil} when this call revoked it, else false.
local function revoke_one(base, id, at, channel)
  local rk = base .. 's:' .. id
  local f = redis.call('HMGET', rk, 'revokedAt', 'tenantId', 'id', 'key', 'userId', 'retainUntil')
  ended(base, id, f[6])
  if f[1] ~= 'null' then return false end
  redis.call('HSET', rk, 'revokedAt', at)
  if channel then redis.call('PUBLISH', channel, session_event(f, at)) end
  return f
end
`

/**
 * ARGV: base, id, bind ('' for none), now, issuedAt, retainUntil, activeEnd, createdAt, maxPerUser, atCap, channel,
 * then field/value pairs. → {1 created | 0 bound to a live one | -1 refused at the cap, fields, revoked events, marker}.
 */
const CREATE = `${HELPERS}
local base, id, bind = ARGV[1], ARGV[2], ARGV[3]
local now, issued, retain, active_end = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local created, max, policy, channel = ARGV[8], tonumber(ARGV[9]), ARGV[10], ARGV[11]
local marker = redis.call('GET', base .. 'rev') or false
if bind ~= '' then
  local bound = redis.call('GET', base .. 'k:' .. bind)
  if bound and is_live(base .. 's:' .. bound, now) then
    return {0, redis.call('HGETALL', base .. 's:' .. bound), {}, marker}
  end
end
local fields, active = {}, true
for i = 12, #ARGV, 2 do
  local value = ARGV[i + 1]
  if ARGV[i] == 'revokedAt' then
    if value == 'null' and marker and tonumber(marker) >= issued then value = marker end
    active = value == 'null'
  end
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = value
end
if tonumber(retain) <= now then return {1, fields, {}, marker} end
local revoked = {}
if active then
  prune(base, now)
  local count = redis.call('ZCARD', base .. 'idx')
  if count >= max then
    if policy == 'refuse' then return {-1, {}, {}, marker} end
    for _, victim in ipairs(redis.call('ZRANGE', base .. 'idx', 0, count - max)) do
      local f = revoke_one(base, victim, ARGV[4], channel)
      if f then revoked[#revoked + 1] = session_event(f, ARGV[4]) end
    end
  end
end
local rk = base .. 's:' .. id
redis.call('DEL', rk)
redis.call('HSET', rk, unpack(fields))
redis.call('PEXPIREAT', rk, retain)
if bind ~= '' then redis.call('SET', base .. 'k:' .. bind, id, 'PXAT', retain) end
if active then
  redis.call('ZADD', base .. 'idx', created, id)
  redis.call('ZADD', base .. 'exp', active_end, id)
else
  ended(base, id, retain)
end
expire_index(base)
return {1, fields, revoked, marker}
`

/** ARGV: base, id. → {fields of the session, or {}; the user's revoke-all marker or false}. */
const READ = `
local base = ARGV[1]
return {redis.call('HGETALL', base .. 's:' .. ARGV[2]), redis.call('GET', base .. 'rev') or false}
`

/** ARGV: base, bind. → {fields of the session bound to the key, or {}; the marker or false}. */
const GET_BY_BIND = `
local base = ARGV[1]
local marker = redis.call('GET', base .. 'rev') or false
local id = redis.call('GET', base .. 'k:' .. ARGV[2])
if not id then return {{}, marker} end
return {redis.call('HGETALL', base .. 's:' .. id), marker}
`

// Writes the patch given as field/value pairs from ARGV[from] on: what update() and a refresh's release write. Returns
// false when the session is absent.
const PATCH = `
local function patch(base, id, now, from)
  local rk = base .. 's:' .. id
  local f = redis.call('HMGET', rk, 'revokedAt', 'expiresAt', 'absoluteExpiresAt')
  if not f[1] then return false end
  -- A touch never brings back a session that has stopped being active: it has left the user's index for good.
  local over = f[1] == 'null' and math.min(tonumber(f[2]), tonumber(f[3])) <= now
  local allowed = { lastSeenAt = true, expiresAt = not over, secretHash = true, tokens = true, claims = true, retainUntil = true }
  local fields, retain, expires = {}, nil, nil
  for i = from, #ARGV, 2 do
    if allowed[ARGV[i]] then
      fields[#fields + 1] = ARGV[i]
      fields[#fields + 1] = ARGV[i + 1]
      if ARGV[i] == 'retainUntil' then retain = ARGV[i + 1] end
      if ARGV[i] == 'expiresAt' then expires = tonumber(ARGV[i + 1]) end
    end
  end
  if #fields > 0 then redis.call('HSET', rk, unpack(fields)) end
  if expires and redis.call('ZSCORE', base .. 'exp', id) then
    redis.call('ZADD', base .. 'exp', math.min(expires, tonumber(f[3])), id)
  end
  if retain then
    redis.call('PEXPIREAT', rk, retain)
    local bind = redis.call('HGET', rk, '_bind')
    if bind and bind ~= '' and redis.call('GET', base .. 'k:' .. bind) == id then
      redis.call('PEXPIREAT', base .. 'k:' .. bind, retain)
    end
    redis.call('ZADD', base .. 'end', 'XX', retain, id)
  end
  expire_index(base)
  return true
end
`

/** ARGV: base, id, now, then field/value pairs of the patch. → fields, or {} when absent. */
const UPDATE = `${HELPERS}${PATCH}
if not patch(ARGV[1], ARGV[2], tonumber(ARGV[3]), 4) then return {} end
return redis.call('HGETALL', ARGV[1] .. 's:' .. ARGV[2])
`

// A session's refresh lock: the key l:<id> beside the session (same slot), holding the fence of the lease, expiring
// with it (PX); the session's hash keeps the last fence handed out (_fence) and the greatest one written
// (_written), which go with the record.

/**
 * ARGV: base, id, ttl (ms). Takes the lock when no lease runs. → {fence or false, fields of the session or {}, the
 * user's revoke-all marker or false}.
 */
const ACQUIRE_REFRESH = `
local base, id = ARGV[1], ARGV[2]
local rk = base .. 's:' .. id
local marker = redis.call('GET', base .. 'rev') or false
if redis.call('EXISTS', rk) == 0 then return {false, {}, marker} end
local lk = base .. 'l:' .. id
local fence = false
if redis.call('EXISTS', lk) == 0 then
  fence = redis.call('HINCRBY', rk, '_fence', 1)
  redis.call('SET', lk, fence, 'PX', ARGV[3])
end
return {fence, redis.call('HGETALL', rk), marker}
`

/**
 * ARGV: base, id, fence, now, then field/value pairs of the patch (none: release only). The patch is written unless a
 * greater fence wrote first; the lock is released when the fence still holds it. → {1 written | 0, fields or {},
 * marker}.
 */
const RELEASE_REFRESH = `${HELPERS}${PATCH}
local base, id, fence = ARGV[1], ARGV[2], tonumber(ARGV[3])
local rk = base .. 's:' .. id
local marker = redis.call('GET', base .. 'rev') or false
if redis.call('EXISTS', rk) == 0 then return {0, {}, marker} end
local written = 0
local f = redis.call('HMGET', rk, '_fence', '_written')
if #ARGV > 4 and fence <= tonumber(f[1] or '0') and fence > tonumber(f[2] or '0') then
  patch(base, id, tonumber(ARGV[4]), 5)
  redis.call('HSET', rk, '_written', fence)
  written = 1
end
local lk = base .. 'l:' .. id
if redis.call('GET', lk) == ARGV[3] then redis.call('DEL', lk) end
return {written, redis.call('HGETALL', rk), marker}
`

/** ARGV: base, id, at, channel. Publishes the event when this call revoked it. → fields, or {} when absent. */
const REVOKE = `${HELPERS}
local base, id = ARGV[1], ARGV[2]
if redis.call('EXISTS', base .. 's:' .. id) == 0 then return {} end
revoke_one(base, id, ARGV[3], ARGV[4])
expire_index(base)
return redis.call('HGETALL', base .. 's:' .. id)
`

/**
 * ARGV: base, at, retainFor, now, channel, event JSON, first ('1' sets the marker and publishes the event). Revokes
 * up to PAGE active sessions. → {JSON ids it revoked, how many active sessions remain}.
 */
const REVOKE_ALL = `${HELPERS}
local base, at, keep = ARGV[1], ARGV[2], tonumber(ARGV[3])
if ARGV[7] == '1' then
  local mk = base .. 'rev'
  local current = redis.call('GET', mk)
  local marker = at
  if current and tonumber(current) > tonumber(at) then marker = current end
  local ttl = redis.call('PTTL', mk)
  if ttl > keep then keep = ttl end
  redis.call('SET', mk, marker, 'PX', keep)
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
local revoked = {}
for _, id in ipairs(redis.call('ZRANGE', base .. 'idx', 0, PAGE - 1)) do
  local f = revoke_one(base, id, at, nil)
  if f then revoked[#revoked + 1] = f[3] end
end
prune(base, tonumber(ARGV[4]))
expire_index(base)
return {revoked, redis.call('ZCARD', base .. 'idx')}
`

/**
 * ARGV: base, keep (encoded id), at, now, channel. Revokes up to PAGE active sessions other than 'keep', each
 * published. → {JSON ids it revoked, how many active sessions other than 'keep' remain}.
 */
const REVOKE_OTHERS = `${HELPERS}
local base, keep, at = ARGV[1], ARGV[2], ARGV[3]
prune(base, tonumber(ARGV[4]))
local revoked = {}
for _, id in ipairs(redis.call('ZRANGE', base .. 'idx', 0, PAGE - 1)) do
  if id ~= keep then
    local f = revoke_one(base, id, at, ARGV[5])
    if f then revoked[#revoked + 1] = f[3] end
  end
end
expire_index(base)
local remaining = redis.call('ZCARD', base .. 'idx')
if redis.call('ZSCORE', base .. 'idx', keep) then remaining = remaining - 1 end
return {revoked, remaining}
`

/**
 * ARGV: base, now, start. → {field lists of up to PAGE active sessions from rank 'start', field lists of the ended
 * ones (on the first page only), the marker or false, how many ids the page held}.
 */
const LIST = `${HELPERS}
local base, now, start = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local function records(ids)
  local out = {}
  for _, id in ipairs(ids) do
    local fields = redis.call('HGETALL', base .. 's:' .. id)
    if #fields > 0 then out[#out + 1] = fields end
  end
  return out
end
local ended_ones = {}
if start == 0 then
  prune(base, now)
  ended_ones = records(redis.call('ZRANGE', base .. 'end', 0, -1))
end
local ids = redis.call('ZRANGE', base .. 'idx', start, start + PAGE - 1)
return {records(ids), ended_ones, redis.call('GET', base .. 'rev') or false, #ids}
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
  read: new Script(READ),
  getByBind: new Script(GET_BY_BIND),
  update: new Script(UPDATE),
  revoke: new Script(REVOKE),
  revokeAll: new Script(REVOKE_ALL),
  revokeOthers: new Script(REVOKE_OTHERS),
  list: new Script(LIST),
  acquireRefresh: new Script(ACQUIRE_REFRESH),
  releaseRefresh: new Script(RELEASE_REFRESH),
}
