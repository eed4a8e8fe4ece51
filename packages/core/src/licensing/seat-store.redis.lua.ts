/**
 * The Redis seat scripts. All keys of one license share the hash tag `{lic:<id>}`, so every script touches one
 * slot and runs on Redis Cluster. Keys:
 *   1 leases        sorted set  session → expiry (ms, Redis clock)
 *   2 sessions      hash        session → "<fingerprint>\n<acquired ms>"
 *   3 fingerprints  hash        fingerprint → session (one live lease per fingerprint)
 *   4 ready         string      present once the set was built (or rebuilt from the journal, ADR 0100)
 * Time comes from Redis TIME so that every API process agrees on it (Redis 7 replicates script effects).
 */

const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Drops leases whose expiry passed; `expired` gets triples session, info, expiry. */
const sweep = `
local expired = {}
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES')
for i = 1, #gone, 2 do
  local s = gone[i]
  local info = redis.call('HGET', KEYS[2], s)
  if info then
    local fp = string.sub(info, 1, string.find(info, '\\n', 1, true) - 1)
    if redis.call('HGET', KEYS[3], fp) == s then redis.call('HDEL', KEYS[3], fp) end
    redis.call('HDEL', KEYS[2], s)
    expired[#expired + 1] = s
    expired[#expired + 1] = info
    expired[#expired + 1] = gone[i + 1]
  end
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
`;

const ready = `if redis.call('EXISTS', KEYS[4]) == 0 then return {'missing'} end`;

/** ARGV: session, fingerprint, max seats, lifetime ms. */
export const acquireScript = `${ready}${now}${sweep}
local expires = now + tonumber(ARGV[4])
local held = redis.call('HGET', KEYS[3], ARGV[2])
if held then
  if redis.call('ZSCORE', KEYS[1], held) then
    redis.call('ZADD', KEYS[1], 'XX', expires, held)
    return {'existing', held, redis.call('HGET', KEYS[2], held), tostring(expires), redis.call('ZCARD', KEYS[1]), expired}
  end
  redis.call('HDEL', KEYS[3], ARGV[2])
end
local used = redis.call('ZCARD', KEYS[1])
if used >= tonumber(ARGV[3]) then return {'exhausted', '', '', '', used, expired} end
local info = ARGV[2] .. '\\n' .. now
redis.call('ZADD', KEYS[1], expires, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], info)
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return {'acquired', ARGV[1], info, tostring(expires), used + 1, expired}
`;

/** ARGV: session, lifetime ms. Only a live lease is extended. */
export const heartbeatScript = `${ready}${now}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return {'gone'} end
local expires = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[1])
return {'ok', redis.call('HGET', KEYS[2], ARGV[1]), tostring(expires)}
`;

/** ARGV: session. Returns the lease's info, its expiry and the time, or 'gone'. */
export const releaseScript = `${ready}${now}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local info = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not info then return {'gone'} end
redis.call('HDEL', KEYS[2], ARGV[1])
local fp = string.sub(info, 1, string.find(info, '\\n', 1, true) - 1)
if redis.call('HGET', KEYS[3], fp) == ARGV[1] then redis.call('HDEL', KEYS[3], fp) end
return {'ok', info, tostring(score or now), tostring(now)}
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

/** ARGV: lifetime ms, then triples session, fingerprint, acquired ms. Adds what is missing, marks the set ready. */
export const restoreScript = `${now}
local expires = now + tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  local s, fp = ARGV[i], ARGV[i + 1]
  if not redis.call('HGET', KEYS[3], fp) and not redis.call('ZSCORE', KEYS[1], s) then
    redis.call('ZADD', KEYS[1], expires, s)
    redis.call('HSET', KEYS[2], s, fp .. '\\n' .. ARGV[i + 2])
    redis.call('HSET', KEYS[3], fp, s)
  end
end
redis.call('SET', KEYS[4], '1')
return 'ok'
`;
