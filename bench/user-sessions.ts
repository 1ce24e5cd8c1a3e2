import { Redis } from 'ioredis';
import { SessionCipher } from '../src/session/cipher.js';
import { Sessions } from '../src/session/sessions.js';
import { UserSessions } from '../src/session/user-sessions.js';
import { RedisStore } from '../src/store/redis.js';
import { startRedis } from './stack.js';
import { quantile, table } from './stats.js';

// npm run bench:sessions [count]: a user's session list (GET /auth/sessions, GET
// /admin/sessions) and the live counts (GET /admin/sessions/stats) with `count` (10^6)
// sessions in the store, timed as the gateway runs them (UserSessions on RedisStore; the
// HTTP layer around them adds well under a millisecond). The fillers are written inside Redis
// in the layout the gateway writes (session key, the user's hash entry, the live and users
// sets), 4 per user, their liveUntil spread over two hours so that entries expire during the
// run and every count prunes some. Target: p99 under 50 ms for both.

const COUNT = Number(process.argv[2] ?? 1_000_000);
const PER_USER = 4;
const CALLS = 2_000;
const TARGET_P99_MS = 50;
const PREFIX = 'bench:';

const FILL = `
local prefix, from, to, users, now, meta = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
for n = from, to - 1 do
  local id = string.sub(redis.sha1hex('bs-' .. n) .. redis.sha1hex('bs+' .. n), 1, 43)
  local user = string.sub(redis.sha1hex('bu-' .. (n % users)) .. redis.sha1hex('bu+' .. (n % users)), 1, 43)
  local untilAt = now + 10000 + (n * 7919) % 7200000
  redis.call('SET', prefix .. 's:{' .. id .. '}', '1:' .. (now + 43200000) .. ':x', 'PX', untilAt - now)
  redis.call('HSET', prefix .. 'u:{' .. user .. '}', id, now .. ':' .. now .. ':' .. untilAt .. ':1:' .. meta)
  redis.call('ZADD', prefix .. 'live', untilAt, id)
  redis.call('ZADD', prefix .. 'users', 'GT', untilAt, user)
end
return 1`;

async function timed(calls: number, op: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await op();
    times.push(performance.now() - t0);
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: Math.max(...times) };
}

async function main(): Promise<void> {
  const redisServer = await startRedis();
  const client = new Redis(redisServer.url);
  const store = new RedisStore(new Redis(redisServer.url, { enableOfflineQueue: true }), PREFIX);
  try {
    const key = Buffer.alloc(32, 9);
    const cipher = new SessionCipher([key]);
    const config = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3600_000, maxPerUser: 0 };
    const sessions = new Sessions(store, cipher, config);
    const users = new UserSessions(store, sessions, cipher, key, config, async () => {}, () => {});
    sessions.registry = users;

    const t0 = Date.now();
    const meta = cipher.seal(Buffer.from(JSON.stringify({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120', absoluteExpiresAt: t0 })), 'x').toString('latin1');
    for (let from = 0; from < COUNT; from += 10_000) {
      await client.eval(FILL, 0, PREFIX, from, Math.min(COUNT, from + 10_000), Math.ceil(COUNT / PER_USER), Date.now(), meta);
    }
    const fillSeconds = (Date.now() - t0) / 1000;
    // the user whose sessions are listed: real ones, through Sessions.create
    for (let i = 0; i < PER_USER; i++) {
      await sessions.create({ sub: 'bench-user', claims: {}, tokens: { accessToken: 'a'.repeat(800), refreshToken: 'r'.repeat(40) }, createdAt: Date.now() });
    }
    const stats = await users.stats();
    const memory = /used_memory:(\d+)/.exec(await client.info('memory'))?.[1];

    const list = await timed(CALLS, () => users.list('bench-user'));
    const listed = (await users.list('bench-user')).length;
    const count = await timed(CALLS, () => users.stats());
    const after = await users.stats();

    const ms = (v: number) => v.toFixed(2);
    const verdict = (p99: number) => (p99 < TARGET_P99_MS ? 'met' : 'MISSED');
    process.stdout.write(`${COUNT} sessions (${stats.sessions} live, ${stats.users} users) filled in ${fillSeconds.toFixed(1)} s; used_memory ${(Number(memory) / 2 ** 20).toFixed(0)} MiB\n`);
    process.stdout.write(`${table([
      ['call', 'calls', 'p50 ms', 'p99 ms', 'max ms', `target p99 < ${TARGET_P99_MS} ms`],
      [`list a user's sessions (${listed})`, String(CALLS), ms(list.p50), ms(list.p99), ms(list.max), verdict(list.p99)],
      ['session stats', String(CALLS), ms(count.p50), ms(count.p99), ms(count.max), verdict(count.p99)],
    ])}\n`);
    process.stdout.write(`stats after the run: ${after.sessions} sessions, ${after.users} users (entries expired meanwhile were pruned by the counts)\n`);
    if (list.p99 >= TARGET_P99_MS || count.p99 >= TARGET_P99_MS) process.exitCode = 1;
  } finally {
    await store.close();
    client.disconnect();
    await redisServer.stop();
  }
}

void main();
