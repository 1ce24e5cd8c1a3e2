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
}

/** One GET /api call with the session cookie, through an instance's pool; status 0 = failed. */
export async function call(pool: Pool, cookie: string): Promise<Call> {
  const started = performance.now();
  try {
    const res = await pool.request({ path: '/api/storm', method: 'GET', headers: { 'x-csrf': '1', cookie } });
    await res.body.dump();
    return { status: res.statusCode, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

/** `count` calls at once, round-robin over the instances; cookieOf(i) is call i's session. */
export function burst(pools: Pool[], count: number, cookieOf: (i: number) => string): Promise<Call[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => call(pools[i % pools.length]!, cookieOf(i))));
}

export const non200 = (calls: readonly Call[]) => calls.filter((c) => c.status !== 200).length;

/** Rewrites a session so its access token expired a second ago (its refresh token is kept). */
export async function expire(view: StoreView, cookie: string): Promise<void> {
  const current = await view.sessions.load(sessionIdOf(cookie));
  if (!current) throw new Error('a bench session is gone from the store');
  const tokens = { ...current.data.tokens, accessTokenExpiresAt: Date.now() - 1000 };
  if (!(await view.sessions.replace(current, { ...current.data, tokens }))) throw new Error('a bench session changed while being expired');
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
  stop(): void;
}

export function slowProvider(idp: BenchIdp, latencyMs: number): SlowProvider {
  const durations: number[] = [];
  idp.aroundTokenRequests(async (_ctx, next) => {
    const started = performance.now();
    await sleep(latencyMs);
    await next();
    durations.push(performance.now() - started);
  });
  return { durations, stop: () => idp.aroundTokenRequests(null) };
}
