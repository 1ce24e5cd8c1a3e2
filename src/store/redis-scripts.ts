// Lua scripts the Redis store runs. Each touches one key (or keys sharing a hash tag), so
// they run unchanged on Redis Cluster.

/** KEYS[1] session; ARGV now, idleMs. Returns {v, d, a} and slides the idle lifetime. */
export const READ_SESSION = `
local r = redis.call('HMGET', KEYS[1], 'v', 'd', 'a')
if not r[1] then return false end
local ttl = math.min(tonumber(ARGV[2]), tonumber(r[3]) - tonumber(ARGV[1]))
if ttl <= 0 then redis.call('DEL', KEYS[1]) return false end
redis.call('PEXPIRE', KEYS[1], ttl)
return r`;

/** KEYS[1] session; ARGV version, data, absoluteExpiresAt, ttlMs. 1 when written, 0 when it exists. */
export const CREATE_SESSION = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 'a', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/**
 * KEYS[1] session; ARGV expectedVersion, version, data, absoluteExpiresAt, channel, id.
 * 1 when written (and the id published on the channel, in the same step); 2 when this exact
 * write is already there (a retry after a lost reply); 0 otherwise.
 */
export const REPLACE_SESSION = `
local v = redis.call('HGET', KEYS[1], 'v')
if v == ARGV[2] and redis.call('HGET', KEYS[1], 'd') == ARGV[3] then return 2 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3], 'a', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
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
