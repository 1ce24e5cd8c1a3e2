import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { openStoreView, sessionIdOf, startGateway, type BenchGateway, type BenchIdp, type StoreView } from './gateway.js';
import { PROXY_CORE, type BenchRedis, type Origin } from './stack.js';

// What both refresh storms stand on: three gateway instances sharing the bench Redis, a
// keep-alive pool per instance, the bench's own view of their store (to expire sessions),
// and a slow provider: every token request waits a configured latency at the IdP, which
// records how long each one took.

export const INSTANCES = 3;
export const PLACEMENT = `${INSTANCES} gateway instances pinned together on core ${PROXY_CORE}; load, IdP (in the bench process), Redis and origin unpinned/core 0`;
const POOL_CONNECTIONS = 334;
/** the bench gateways' refreshBefore: a token with more left than this is fresh */
const FRESH_MS = 60_000;

export interface StormStack {
  gateways: BenchGateway[];
  pools: Pool[];
  view: StoreView;
  close(): Promise<void>;
}

export async function startStormStack(opts: { idp: BenchIdp; redis: BenchRedis; origin: Origin; tokenConcurrency: number }): Promise<StormStack> {
  const gatewayOptions = { idp: opts.idp, redisUrl: opts.redis.url, upstream: opts.origin.url, core: PROXY_CORE, oidc: { tokenConcurrency: opts.tokenConcurrency } };
  const gateways: BenchGateway[] = [];
  const pools: Pool[] = [];
  let view: StoreView | undefined;
  const close = async () => {
    await Promise.allSettled(pools.map((p) => p.close()));
    await view?.close().catch(() => {});
    await Promise.allSettled(gateways.map((g) => g.stop()));
  };
  try {
    for (let i = 0; i < INSTANCES; i += 1) gateways.push(await startGateway(gatewayOptions));
    for (const g of gateways) {
      pools.push(new Pool(g.url, { connections: POOL_CONNECTIONS, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 600_000 }));
    }
    view = openStoreView(gatewayOptions);
    return { gateways, pools, view, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface Call {
  status: number;
  ms: number;
  /** a failed call: the status and the gateway's error code ("503 session_store_unavailable"), or the client's error */
  failure?: string;
}

/** One GET /api call with the session cookie, through an instance's pool; status 0 = failed. */
export async function call(pool: Pool, cookie: string): Promise<Call> {
  const started = performance.now();
  try {
    const res = await pool.request({ path: '/api/storm', method: 'GET', headers: { 'x-csrf': '1', cookie } });
    if (res.statusCode === 200) {
      await res.body.dump();
      return { status: 200, ms: performance.now() - started };
    }
    const text = await res.body.text();
    const ms = performance.now() - started;
    const code = /"error":"([^"]*)"/.exec(text)?.[1] ?? '';
    return { status: res.statusCode, ms, failure: `${res.statusCode} ${code}`.trim() };
  } catch (err) {
    return { status: 0, ms: performance.now() - started, failure: (err as { code?: string }).code ?? String(err) };
  }
}

/** The failures of some calls by kind: "503 session_store_unavailable x3, ..." ('' when none). */
export function failures(calls: readonly Call[]): string {
  const counts = new Map<string, number>();
  for (const c of calls) if (c.failure !== undefined) counts.set(c.failure, (counts.get(c.failure) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind} x${n}`).join(', ');
}

/** `count` calls at once, round-robin over the instances; cookieOf(i) is call i's session. */
export function burst(pools: Pool[], count: number, cookieOf: (i: number) => string): Promise<Call[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => call(pools[i % pools.length]!, cookieOf(i))));
}

export const non200 = (calls: readonly Call[]) => calls.filter((c) => c.status !== 200).length;

/**
 * Rewrites a session so its access token expired a second ago (its refresh token is kept).
 * First waits (up to 35 s) until the session holds a fresh token: a refresh whose write met
 * a busy store is still being written in the background (up to 30 s), and expiring the old
 * copy under it would bring a spent refresh token back.
 */
export async function expire(view: StoreView, cookie: string): Promise<void> {
  const id = sessionIdOf(cookie);
  const deadline = Date.now() + 35_000;
  for (;;) {
    const current = await view.sessions.load(id);
    if (!current) throw new Error('a bench session is gone from the store');
    if ((current.data.tokens.accessTokenExpiresAt ?? 0) > Date.now() + FRESH_MS) {
      const tokens = { ...current.data.tokens, accessTokenExpiresAt: Date.now() - 1000 };
      if (await view.sessions.replace(current, { ...current.data, tokens })) return;
    }
    if (Date.now() > deadline) throw new Error('a bench session did not get a fresh token within 35 s');
    await sleep(100);
  }
}

/** Runs `task` over items, at most `limit` at a time. */
export async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await task(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A remote-like provider: each token request waits `latencyMs` first; durations are kept. */
export interface SlowProvider {
  /** how long each token request took at the IdP (the wait included), ms */
  durations: number[];
  /** when each token request arrived at the IdP (performance.now()) */
  arrivals: number[];
  stop(): void;
}

export function slowProvider(idp: BenchIdp, latencyMs: number): SlowProvider {
  const durations: number[] = [];
  const arrivals: number[] = [];
  idp.aroundTokenRequests(async (_ctx, next) => {
    const started = performance.now();
    arrivals.push(started);
    await sleep(latencyMs);
    await next();
    durations.push(performance.now() - started);
  });
  return { durations, arrivals, stop: () => idp.aroundTokenRequests(null) };
}
