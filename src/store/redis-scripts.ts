// Lua scripts the Redis store runs. Each touches one key (or keys sharing a hash tag), so
// they run unchanged on Redis Cluster.

// A session is one string, "<version>:<absoluteExpiresAt>:<sealed data>" (see
// stored-session-bytes.ts); HEAD_OF finds the two numbers at its start.
const HEAD_OF = `
local function head(s)
  local i = string.find(s, ':', 1, true)
  local j = string.find(s, ':', i + 1, true)
  return string.sub(s, 1, i - 1), tonumber(string.sub(s, i + 1, j - 1))
end`;

/**
 * KEYS[1] session; ARGV now, idleMs. Returns the stored value and slides the idle lifetime to
 * min(idleMs, absolute expiry - now); past its absolute expiry the session is deleted. A
 * session written as a hash (v, d, a) by an earlier version is rewritten as a string first.
 */
export const READ_SESSION = `${HEAD_OF}
local s = redis.pcall('GET', KEYS[1])
if type(s) == 'table' and s.err then
  local h = redis.call('HMGET', KEYS[1], 'v', 'd', 'a')
  if not h[1] then return false end
  s = h[1] .. ':' .. h[3] .. ':' .. h[2]
  local pttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[1], s, 'PX', math.max(pttl, 1))
end
if not s then return false end
local _, abs = head(s)
local ttl = math.min(tonumber(ARGV[2]), abs - tonumber(ARGV[1]))
if ttl <= 0 then redis.call('DEL', KEYS[1]) return false end
redis.call('PEXPIRE', KEYS[1], ttl)
return s`;

/**
 * KEYS[1] session; ARGV expectedVersion, value, channel, id. 1 when written (the lifetime
 * kept, and the id published on the channel in the same step); 2 when this exact value is
 * already there (a retry after a lost reply); 0 otherwise.
 */
export const REPLACE_SESSION = `${HEAD_OF}
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
if s == ARGV[2] then return 2 end
local v = head(s)
if v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

/** KEYS[1] session; ARGV channel, id. Deletes it and, when it was there, publishes the id. */
export const DELETE_SESSION = `
local n = redis.call('DEL', KEYS[1])
if n == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`;

/** KEYS[1] lock; ARGV owner, leaseMs. 1 when the lease was ours and is extended. */
export const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

/** KEYS[1] lock; ARGV owner. Deletes the lock only when we still own it. */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

/**
 * KEYS[1] index (a sorted set: member storeId, score the epoch ms it is listed until);
 * ARGV storeId, ttlMs, nowMs. Lists the member for ttlMs and drops members past their time,
 * so that the index of a subject who logs in every day does not grow forever.
 */
export const ADD_TO_INDEX = `
local now = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;
