import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SessionData } from '../src/session/session.js';
import type { SessionStore } from '../src/store/store.js';
import type { StoreView } from './gateway.js';
import { quantile } from './stats.js';

// The Redis side of the scale bench: what one session costs in memory (written through the
// real Sessions.create), and filling the store with look-alike sessions by pipeline.

export const TARGET_BYTES_PER_SESSION = 1536;

export interface SessionParts {
  /** JSON bytes of each part of the session data, and of the whole */
  accessToken: number;
  refreshToken: number;
  idToken: number;
  claims: number;
  rest: number;
  json: number;
  /** the sealed value the store holds (fingerprint, IV, tag and ciphertext) */
  sealed: number;
}

export interface MemoryResult {
  sessions: number;
  /** mean MEMORY USAGE of a session hash */
  sessionKeyBytes: number;
  /** MEMORY USAGE of the index keys the sessions made, per session */
  indexBytesPerSession: number;
  /** which index entries a session gets: by sub, and by sid when the ID token has one */
  indexKinds: Array<'sid' | 'sub'>;
  /** INFO used_memory delta / sessions: keys, index, the key space's own tables */
  usedMemoryPerSession: number;
  /** OBJECT ENCODING of a session hash */
  encoding: string;
  parts: SessionParts;
}

const bytes = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

export function partsOf(data: SessionData, sealed: number): SessionParts {
  const { accessToken, refreshToken, idToken } = data.tokens;
  const parts = { accessToken: bytes(accessToken), refreshToken: bytes(refreshToken), idToken: bytes(idToken), claims: bytes(data.claims) };
  const json = bytes(data);
  const named = parts.accessToken + parts.refreshToken + parts.idToken + parts.claims;
  return { ...parts, rest: json - named, json, sealed };
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

async function allKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function memoryUsage(redis: Redis, keys: string[]): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < keys.length; i += 5000) {
    const pipe = redis.pipeline();
    for (const key of keys.slice(i, i + 5000)) pipe.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    for (const [error, size] of (await pipe.exec()) ?? []) {
      if (error) throw error;
      sizes.push(Number(size));
    }
  }
  return sizes;
}

async function unlink(redis: Redis, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 10_000) await redis.unlink(...keys.slice(i, i + 10_000));
}

export const indexKindsOf = (data: SessionData): Array<'sid' | 'sub'> => (data.sid === undefined ? ['sub'] : ['sid', 'sub']);

/** The same string with its last characters replaced by n (so every session gets its own). */
const numbered = (base: string, n: number) => `${base.slice(0, Math.max(0, base.length - 8))}${n.toString(36).padStart(8, '0')}`;

/**
 * Writes `count` sessions with `data` through Sessions.create, each with its own sid and sub
 * (one session per user: every session gets index entries of its own), measures them, and
 * deletes them again. Only keys that were not there before are measured and deleted.
 */
export async function measureMemory(
  redis: Redis, view: StoreView, data: SessionData, sealed: Buffer, count: number, log: (line: string) => void,
): Promise<MemoryResult> {
  const prefix = view.config.store.keyPrefix;
  const before = new Set(await allKeys(redis));
  const memoryBefore = await usedMemory(redis);
  for (let i = 0; i < count; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => view.sessions.create({
      ...data,
      sub: numbered(data.sub, i + j),
      ...(data.sid === undefined ? {} : { sid: numbered(data.sid, i + j) }),
      createdAt: Date.now(),
    })));
  }
  const memoryAfter = await usedMemory(redis);
  const added = (await allKeys(redis)).filter((key) => !before.has(key));
  try {
    const sessionKeys = added.filter((key) => key.startsWith(`${prefix}s:`));
    const indexKeys = added.filter((key) => key.startsWith(`${prefix}idx:`));
    if (sessionKeys.length !== count) throw new Error(`expected ${count} new session keys, found ${sessionKeys.length}`);
    log(`scale: ${count} sessions written (${sessionKeys.length} session keys, ${indexKeys.length} index keys, ${added.length - sessionKeys.length - indexKeys.length} others)`);
    const sessionSizes = await memoryUsage(redis, sessionKeys);
    const indexSizes = await memoryUsage(redis, indexKeys);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const encoding = String(await redis.call('OBJECT', 'ENCODING', sessionKeys[0]!));
    return {
      sessions: count,
      sessionKeyBytes: sum(sessionSizes) / count,
      indexBytesPerSession: sum(indexSizes) / count,
      indexKinds: indexKindsOf(data),
      usedMemoryPerSession: (memoryAfter - memoryBefore) / count,
      encoding,
      parts: partsOf(data, sealed.length),
    };
  } finally {
    await unlink(redis, added);
  }
}

/** 43 characters, as long as a real store id (a base64url SHA-256); the same in fillScript. */
const fillerId = (kind: string, n: number) => {
  const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
  return `${sha1(`scale-${kind}-${n}`)}${sha1(`scale-${kind}-${n}+`)}`.slice(0, 43);
};

/**
 * ARGV prefix, from, to, sealed, absoluteExpiresAt, ttlMs, indexTtlMs, index kinds ("sub" or
 * "sid,sub"). Written inside Redis: from node, building the commands costs 5 times what
 * Redis spends running them. The keys are not declared: a standalone Redis of the bench only.
 */
const FILL = `
local id = function(kind, n)
  local base = 'scale-' .. kind .. '-' .. n
  return string.sub(redis.sha1hex(base) .. redis.sha1hex(base .. '+'), 1, 43)
end
local kinds = {}
for kind in string.gmatch(ARGV[8], '[^,]+') do kinds[#kinds + 1] = kind end
local until_ms = tonumber(ARGV[5])
for n = tonumber(ARGV[2]), tonumber(ARGV[3]) - 1 do
  local storeId = id('s', n)
  local key = ARGV[1] .. 's:{' .. storeId .. '}'
  redis.call('SET', key, '1:' .. ARGV[5] .. ':' .. ARGV[4], 'PX', ARGV[6])
  for _, kind in ipairs(kinds) do
    local index = ARGV[1] .. 'idx:{' .. id(kind, n) .. '}'
    redis.call('ZADD', index, until_ms, storeId)
    redis.call('PEXPIRE', index, ARGV[7])
  end
end
return 1`;

/**
 * Look-alike sessions numbered from 0: the real layout (the string "1:<abs>:<sealed>" with a PX under
 * `${prefix}s:{id}`), plus the index entries (sub, and sid when sessions have one) a login
 * writes, in sorted sets of their own. They are never read by the gateway.
 */
export class Fillers {
  count = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly sealed: Buffer,
    private readonly ttlMs: number,
    private readonly indexTtlMs: number,
    private readonly indexKinds: Array<'sid' | 'sub'>,
  ) {}

  storeId = (n: number) => fillerId('s', n);

  /** Adds fillers until there are `count`, 10,000 per script run. */
  async fill(count: number): Promise<void> {
    while (this.count < count) {
      const end = Math.min(count, this.count + 10_000);
      const absolute = String(Date.now() + this.indexTtlMs);
      await this.redis.eval(FILL, 0, this.prefix, this.count, end, this.sealed, absolute, this.ttlMs, this.indexTtlMs, this.indexKinds.join(','));
      this.count = end;
    }
  }
}

export interface StoreReads {
  p50: number;
  p99: number;
  perSecond: number;
}

/**
 * The store's read path as the gateway runs it (SessionStore.readSession: the read script,
 * which also slides the idle timeout) on sessions picked at random from the whole store,
 * `concurrency` at a time from this process, for `seconds`. No decryption: Redis alone.
 */
export async function storeReads(store: SessionStore, fillers: Fillers, idleMs: number, seconds: number, concurrency = 16): Promise<StoreReads> {
  const times: number[] = [];
  const until = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < until) {
      const id = fillers.storeId(Math.floor(Math.random() * fillers.count));
      const t0 = performance.now();
      if (!(await store.readSession(id, idleMs))) throw new Error(`filler ${id} is not in the store`);
      times.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), perSecond: times.length / ((performance.now() - t0) / 1000) };
}
