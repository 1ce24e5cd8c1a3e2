import { loginThroughGateway } from '../test/helpers/login.js';
import { startGateway, BENCH_USER, type BenchIdp } from './gateway.js';
import { latencyAt, type Latency } from './load/latency.js';
import { wrk, type Throughput } from './load/wrk.js';
import { startServer, type Started } from './processes.js';
import { LOAD_CORE, PROXY_CORE, serverScript, type BenchRedis, type Origin } from './stack.js';
import { spread, type Spread } from './stats.js';

// The ladder: the same request through each rung, measured side by side, rounds interleaved
// (L0 L1 L2 L3 L4, L0 L1 ...) so that whatever else the machine does falls on every rung alike.

export type RungName = 'L0' | 'L1' | 'L2' | 'L3' | 'L3t' | 'L4';

export const RUNG_TITLES: Record<RungName, string> = {
  L0: 'origin, direct',
  L1: 'node http + undici Pool',
  L2: 'fastify + @fastify/http-proxy',
  L3: 'bff-gateway (session hot path)',
  L3t: 'bff-gateway, traces on (ratio 1.0)',
  L4: 'express + express-session + hpm',
};

interface Rung {
  name: RungName;
  url: string;
  headers: Record<string, string>;
  /** the proxy process, whose CPU is counted (none for L0) */
  server?: Started;
}

export interface RungResult {
  name: RungName;
  throughput: Spread;
  cpuMicrosPerRequest: Spread;
  p50: Spread;
  p99: Spread;
  /** per fixed-rate round, in order (rounds are interleaved, so round i of two rungs ran close in time) */
  p99s: number[];
  errors: number;
}

export interface LadderOptions {
  rounds: number;
  seconds: number;
  /** the fixed-rate runs: more and shorter than the throughput rounds, as a p99 is easily moved by a noisy moment */
  latencyRounds: number;
  latencySeconds: number;
  connections: number;
  origin: Origin;
  redis: BenchRedis;
  idp: BenchIdp;
  /** where the L3t gateway sends its traces (an OTLP/HTTP URL) */
  traceSink: string;
  log(line: string): void;
}

const PATH = '/api/bench';
const BASE_HEADERS = { 'x-csrf': '1', accept: 'application/json' };

async function startRungs(opts: LadderOptions): Promise<Rung[]> {
  const upstream = opts.origin.url;
  const node = (name: string, ...args: string[]) => startServer(PROXY_CORE, process.execPath, [serverScript(name), ...args]);
  const raw = await node('raw-proxy', upstream);
  const fastify = await node('fastify-proxy', upstream);
  const peer = await node('express-peer', upstream, opts.redis.url);
  const gateway = await startGateway({ idp: opts.idp, redisUrl: opts.redis.url, upstream });
  const login = await loginThroughGateway(gateway.url, { username: BENCH_USER.username, password: BENCH_USER.password });
  // the same gateway exporting every request's trace (OTLP/HTTP) to a sink in this process
  const traced = await startGateway({
    idp: opts.idp,
    redisUrl: opts.redis.url,
    upstream,
    telemetry: { traces: { endpoint: opts.traceSink, sampleRatio: 1 } },
  });
  const tracedLogin = await loginThroughGateway(traced.url, { username: BENCH_USER.username, password: BENCH_USER.password });
  const peerLogin = await fetch(`http://127.0.0.1:${peer.port}/bench/login`, { method: 'POST' });
  const peerCookie = peerLogin.headers.getSetCookie()[0]?.split(';')[0];
  if (!peerCookie) throw new Error('the express peer set no session cookie');
  const at = (s: Started) => `http://127.0.0.1:${s.port}${PATH}`;
  return [
    { name: 'L0', url: `${upstream}${PATH}`, headers: BASE_HEADERS },
    { name: 'L1', url: at(raw), headers: BASE_HEADERS, server: raw },
    { name: 'L2', url: at(fastify), headers: BASE_HEADERS, server: fastify },
    { name: 'L3', url: `${gateway.url}${PATH}`, headers: { ...BASE_HEADERS, cookie: login.sessionCookie }, server: gateway },
    { name: 'L3t', url: `${traced.url}${PATH}`, headers: { ...BASE_HEADERS, cookie: tracedLogin.sessionCookie }, server: traced },
    { name: 'L4', url: at(peer), headers: { ...BASE_HEADERS, cookie: peerCookie }, server: peer },
  ];
}

async function throughputOf(rung: Rung, opts: LadderOptions, seconds: number): Promise<Throughput & { cpuMicros: number }> {
  const before = rung.server?.cpuMicros() ?? 0;
  const result = await wrk(rung.url, { core: LOAD_CORE, connections: opts.connections, seconds, headers: rung.headers });
  const cpu = (rung.server?.cpuMicros() ?? 0) - before;
  return { ...result, cpuMicros: result.requests > 0 ? cpu / result.requests : NaN };
}

export async function runLadder(opts: LadderOptions): Promise<{ results: RungResult[]; rate: number }> {
  const rungs = await startRungs(opts);
  try {
    // as long as a round: with 2 s, every rung's first round still came out 10-20% slow
    // (V8 was still optimizing), which moved the medians of a 3-round run
    opts.log('ladder: warm-up');
    for (const rung of rungs) await throughputOf(rung, opts, opts.seconds);
    const runs = new Map<RungName, Array<Throughput & { cpuMicros: number }>>(rungs.map((r) => [r.name, []]));
    for (let round = 1; round <= opts.rounds; round += 1) {
      for (const rung of rungs) {
        const result = await throughputOf(rung, opts, opts.seconds);
        runs.get(rung.name)!.push(result);
        opts.log(`ladder round ${round}: ${rung.name} ${result.requestsPerSecond.toFixed(0)} req/s, ${result.cpuMicros.toFixed(1)} µs CPU/req`);
      }
    }
    // the fixed rate: about half of what the slowest rung manages
    const slowest = Math.min(...rungs.map((r) => spread(runs.get(r.name)!.map((x) => x.requestsPerSecond)).median));
    const rate = Math.max(100, Math.round(slowest / 2 / 100) * 100);
    const latencies = new Map<RungName, Latency[]>(rungs.map((r) => [r.name, []]));
    for (let round = 1; round <= opts.latencyRounds; round += 1) {
      for (const rung of rungs) {
        const result = await latencyAt(rung.url, { core: LOAD_CORE, rate, seconds: opts.latencySeconds, headers: rung.headers });
        latencies.get(rung.name)!.push(result);
        opts.log(`latency round ${round} at ${rate}/s: ${rung.name} p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
      }
    }
    const results = rungs.map((rung): RungResult => {
      const t = runs.get(rung.name)!;
      const l = latencies.get(rung.name)!;
      return {
        name: rung.name,
        throughput: spread(t.map((x) => x.requestsPerSecond)),
        cpuMicrosPerRequest: spread(t.map((x) => x.cpuMicros)),
        p50: spread(l.map((x) => x.p50)),
        p99: spread(l.map((x) => x.p99)),
        p99s: l.map((x) => x.p99),
        errors: t.reduce((sum, x) => sum + x.errors, 0) + l.reduce((sum, x) => sum + x.errors, 0),
      };
    });
    return { results, rate };
  } finally {
    await Promise.all(rungs.map((r) => r.server?.stop()));
  }
}
