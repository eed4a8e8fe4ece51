/**
 * The Redis seat scripts. All keys of one license share the hash tag `{lic:<id>}`, so every script touches one
 * slot and runs on Redis Cluster. Keys:
 *   1 leases        sorted set  session → expiry (ms, Redis clock)
 *   2 sessions      hash        session → "<fingerprint>\n<acquired ms>\n<metadata JSON>" (a lease written
 *                               before metadata was kept has no third line)
 *   3 fingerprints  hash        fingerprint → session (one live lease per fingerprint)
 *   4 ready         string      present once the set was built (or rebuilt from the journal, ADR 0100)
 * Time comes from Redis TIME so that every API process agrees on it (Redis 7 replicates script effects).
 */

const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** forget(s, info): removes a session's info and its fingerprint's entry, if that still names this session. */
const forget = `
local function forget(s, info)
  local fp = string.sub(info, 1, string.find(info, '\\n', 1, true) - 1)
  if redis.call('HGET', KEYS[3], fp) == s then redis.call('HDEL', KEYS[3], fp) end
  redis.call('HDEL', KEYS[2], s)
end
`;

/** Drops leases whose expiry passed; `expired` gets triples session, info, expiry. */
const sweep = `${forget}
local expired = {}
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES')
for i = 1, #gone, 2 do
  local s = gone[i]
  local info = redis.call('HGET', KEYS[2], s)
  if info then
    forget(s, info)
    expired[#expired + 1] = s
    expired[#expired + 1] = info
    expired[#expired + 1] = gone[i + 1]
  end
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
`;

const ready = `if redis.call('EXISTS', KEYS[4]) == 0 then return {'missing'} end`;

/**
 * ARGV: max seats, lifetime ms, then one triple per acquire of the turn (RedisSeatStore batches them): session,
 * fingerprint, metadata JSON (one line: JSON escapes line breaks). The acquires are decided one after the other,
 * exactly as separate scripts would decide them, after one sweep. Returns the expired triples and, per acquire,
 * kind, session, info, expiry, live count.
 */
export const acquireScript = `${ready}${now}${sweep}
local max = tonumber(ARGV[1])
local expires = now + tonumber(ARGV[2])
local used = redis.call('ZCARD', KEYS[1])
local out = {}
local function answer(kind, session, info, expiry)
  out[#out + 1] = kind
  out[#out + 1] = session
  out[#out + 1] = info
  out[#out + 1] = expiry
  out[#out + 1] = used
end
for i = 3, #ARGV, 3 do
  local session, fp = ARGV[i], ARGV[i + 1]
  local held = redis.call('HGET', KEYS[3], fp)
  if held and not redis.call('ZSCORE', KEYS[1], held) then
    redis.call('HDEL', KEYS[3], fp)
    held = false
  end
  if held then
    redis.call('ZADD', KEYS[1], 'XX', expires, held)
    answer('existing', held, redis.call('HGET', KEYS[2], held), tostring(expires))
  elseif used >= max then
    answer('exhausted', '', '', '')
  else
    local info = fp .. '\\n' .. now .. '\\n' .. ARGV[i + 2]
    redis.call('ZADD', KEYS[1], expires, session)
    redis.call('HSET', KEYS[2], session, info)
    redis.call('HSET', KEYS[3], fp, session)
    used = used + 1
    answer('acquired', session, info, tostring(expires))
  end
end
return {'ok', expired, out}
`;

/**
 * ARGV: lifetime ms, then the sessions of one turn's heartbeats (RedisSeatStore batches them). Only live leases
 * are extended; returns the new expiry and, per session in order, 1 (extended) or 0 (expired, released, unknown).
 */
export const heartbeatScript = `${ready}${now}
local expires = now + tonumber(ARGV[1])
local renewed = {}
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) > now then
    redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[i])
    renewed[i - 1] = 1
  else
    renewed[i - 1] = 0
  end
end
return {'ok', tostring(expires), renewed}
`;

/**
 * ARGV: the sessions of one turn's releases (RedisSeatStore batches them). Drops each lease; returns, per session
 * in order, its info and expiry, or two empty strings when it had none (release is idempotent).
 */
export const releaseScript = `${ready}${now}${forget}
local out = {}
for i = 1, #ARGV do
  local s = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], s)
  local info = redis.call('HGET', KEYS[2], s)
  redis.call('ZREM', KEYS[1], s)
  if info then
    forget(s, info)
    out[#out + 1] = info
    out[#out + 1] = tostring(score or now)
  else
    out[#out + 1] = ''
    out[#out + 1] = ''
  end
end
return {'ok', out}
`;

/** Returns expired triples and the number of live leases. */
export const expireScript = `${ready}${now}${sweep}
return {'ok', expired, redis.call('ZCARD', KEYS[1])}
`;

/** Returns expired triples and live triples (session, info, expiry). */
export const sweepScript = `${ready}${now}${sweep}
local live = {}
local rows = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #rows, 2 do
  live[#live + 1] = rows[i]
  live[#live + 1] = redis.call('HGET', KEYS[2], rows[i]) or '?\\n0'
  live[#live + 1] = rows[i + 1]
end
return {'ok', expired, live}
`;

/**
 * Adds the journal's open leases (quadruples session, fingerprint, acquired ms, metadata JSON from ARGV[first])
 * that the set lacks, with a fresh lifetime of ARGV[1] ms (heartbeats are not journaled), and marks the set ready.
 */
const addOpen = `
local restored = 0
local expires = now + tonumber(ARGV[1])
for i = first, #ARGV, 4 do
  local s, fp = ARGV[i], ARGV[i + 1]
  if not redis.call('HGET', KEYS[3], fp) and not redis.call('ZSCORE', KEYS[1], s) then
    redis.call('ZADD', KEYS[1], expires, s)
    redis.call('HSET', KEYS[2], s, fp .. '\\n' .. ARGV[i + 2] .. '\\n' .. ARGV[i + 3])
    redis.call('HSET', KEYS[3], fp, s)
    restored = restored + 1
  end
end
redis.call('SET', KEYS[4], '1')
`;

/** ARGV: lifetime ms, then the open leases' quadruples. Returns how many leases it added. */
export const restoreScript = `${now}
local first = 2
${addOpen}
return restored
`;

/**
 * ARGV: lifetime ms, n, n sessions the journal says ended, then the open leases' quadruples. Drops the ended
 * sessions, adds the open leases the set lacks; returns restored, dropped and the live count.
 */
export const reconcileScript = `${now}${forget}
local dropped = 0
local n = tonumber(ARGV[2])
for i = 3, 2 + n do
  local s = ARGV[i]
  local removed = redis.call('ZREM', KEYS[1], s)
  local info = redis.call('HGET', KEYS[2], s)
  if info then forget(s, info) end
  if removed == 1 or info then dropped = dropped + 1 end
end
local first = 3 + n
${addOpen}
return {restored, dropped, redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')}
`;
