// Lua scripts of the per-user session entries (store/redis-user-sessions.ts). Each touches
// one key, the user's hash `<prefix>u:{<user>}`: field = store id, value =
// "<createdAt>:<lastSeenAt>:<liveUntil>:<hasUserAgent>:<sealed meta>" (user-session-bytes.ts).

const USER_HEAD = `
local function head(s)
  local a = string.find(s, ':', 1, true)
  local b = string.find(s, ':', a + 1, true)
  local c = string.find(s, ':', b + 1, true)
  local d = string.find(s, ':', c + 1, true)
  return tonumber(string.sub(s, 1, a - 1)), tonumber(string.sub(s, a + 1, b - 1)),
    tonumber(string.sub(s, b + 1, c - 1)), string.sub(s, c + 1, d - 1)
end`;

/**
 * KEYS[1] user; ARGV storeId, value, nowMs, cap, keyTtlMs. Drops entries past their
 * liveUntil, adds the new one, and with cap > 0 removes the oldest (by createdAt, then store
 * id) beyond the cap: returns their store ids. One script per user key, so logins of one user
 * racing on several instances are serialised by Redis and never leave more than the cap.
 */
export const ADD_USER_SESSION = `${USER_HEAD}
local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local created, _, untilAt = head(all[i + 1])
  if untilAt <= now then redis.call('HDEL', KEYS[1], all[i])
  elseif all[i] ~= ARGV[1] then live[#live + 1] = { all[i], created } end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local evicted = {}
local cap = tonumber(ARGV[4])
if cap > 0 and #live + 1 > cap then
  table.sort(live, function(x, y) if x[2] == y[2] then return x[1] < y[1] end return x[2] < y[2] end)
  for i = 1, #live + 1 - cap do
    redis.call('HDEL', KEYS[1], live[i][1])
    evicted[#evicted + 1] = live[i][1]
  end
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return evicted`;

/**
 * KEYS[1] user; ARGV storeId, value, nowMs, minIntervalMs, keyTtlMs, hasUserAgent. Writes the
 * new value only over a listed entry whose lastSeenAt is at least minIntervalMs old (or that
 * lacks a user agent the new one has). Returns the stored lastSeenAt afterwards, or -1 when
 * the session is not listed.
 */
export const TOUCH_USER_SESSION = `${USER_HEAD}
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return -1 end
local _, seen, _, ua = head(old)
local now = tonumber(ARGV[3])
if now - seen < tonumber(ARGV[4]) and not (ua == '0' and ARGV[6] == '1') then return seen end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return now`;

/** KEYS[1] user; ARGV storeIds. Unlists them; returns how many entries the user has left. */
export const DROP_USER_SESSIONS = `
redis.call('HDEL', KEYS[1], unpack(ARGV))
return redis.call('HLEN', KEYS[1])`;
