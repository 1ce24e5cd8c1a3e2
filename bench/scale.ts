import { freemem } from 'node:os';
import { Redis } from 'ioredis';
import { storeIdOf } from '../src/session/sessions.js';
import { unpackSession } from '../src/store/stored-session-bytes.js';
import { loginThroughGateway } from '../test/helpers/login.js';
import { BENCH_USER, openStoreView, sessionIdOf, startGateway, type BenchGateway, type BenchIdp, type StoreView } from './gateway.js';
import { latencyAt, type Latency } from './load/latency.js';
import { wrk } from './load/wrk.js';
import { Fillers, indexKindsOf, measureMemory, storeReads, TARGET_BYTES_PER_SESSION, usedMemory, type MemoryResult, type StoreReads } from './scale-store.js';
import { LOAD_CORE, startRedis, type BenchRedis, type Origin } from './stack.js';
import { formatSpread, spread, table, type Spread } from './stats.js';

// Scale: what a session costs in Redis memory, and whether the gateway's hot path (a real
// session, proxied to the origin) stays flat as the store grows from 1k to 1M sessions.
// Each size has a Redis and a gateway of its own (all gateways pinned to the proxy core, only
// one under load at a time), so rounds run interleaved (1k 100k 1M, 1k ...) and whatever
// else the machine does falls on every size alike. The shared bench Redis (opts.redis) is
// never written: every Redis here is started and stopped by the run.

export interface ScaleOptions {
  redis: BenchRedis;
  origin: Origin;
  idp: BenchIdp;
  quick: boolean;
  /** the fixed request rate of the latency measurement */
  rate: number;
  seconds: number;
  log(line: string): void;
}

export interface SizeResult {
  label: string;
  /** sessions in the store: the real one plus fillers */
  sessions: number;
  usedMemoryBytes: number;
  fillSeconds: number;
  p50: Spread;
  p99: Spread;
  throughput: Spread;
  gatewayCpuMicros: Spread;
  redisCpuMicros: Spread;
  errors: number;
  /** readSession on random sessions of the store, from the bench process (Redis alone) */
  storeP50: Spread;
  storeP99: Spread;
  storeReadsPerSecond: Spread;
}

export interface Ratios {
  of: string;
  /** median over median */
  p50: number;
  p99: number;
  throughput: number;
  /** best round over best round (the least disturbed by the rest of the machine) */
  bestP99: number;
  bestThroughput: number;
  /** readSession on random sessions, median over median */
  storeP99: number;
  storeReadsPerSecond: number;
}

export interface ScaleResult {
  memory: MemoryResult;
  sizes: SizeResult[];
  rate: number;
  rounds: number;
  seconds: number;
  /** the largest size over the smallest */
  ratios: Ratios;
  skipped: string[];
  totalSeconds: number;
}

const MEMORY_SESSIONS = 10_000;
const CONNECTIONS = 64;
const HEADERS = { 'x-csrf': '1', accept: 'application/json' };

/** One size: a Redis, a gateway on it, a logged-in session, and the store around it. */
interface Stack {
  count: number;
  redis: BenchRedis;
  client: Redis;
  gateway?: BenchGateway;
  view?: StoreView;
  url: string;
  headers: Record<string, string>;
}

async function startStack(count: number, opts: ScaleOptions, stacks: Stack[]): Promise<Stack & { view: StoreView; sessionId: string }> {
  const redis = await startRedis();
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {}); // commands report their own errors
  const stack: Stack = { count, redis, client, url: '', headers: {} };
  stacks.push(stack); // stopped by the caller, however far this gets
  const gatewayOptions = { idp: opts.idp, redisUrl: redis.url, upstream: opts.origin.url };
  stack.gateway = await startGateway(gatewayOptions);
  const view = (stack.view = openStoreView(gatewayOptions));
  await view.store.ping(); // the store's client queues nothing before it is connected
  const login = await loginThroughGateway(stack.gateway.url, { username: BENCH_USER.username, password: BENCH_USER.password });
  stack.url = `${stack.gateway.url}/api/bench`;
  stack.headers = { ...HEADERS, cookie: login.sessionCookie };
  const check = await fetch(stack.url, { headers: stack.headers });
  await check.body?.cancel();
  if (check.status !== 200) throw new Error(`the hot path answers ${check.status}, not 200`);
  return { ...stack, view, sessionId: sessionIdOf(login.sessionCookie) };
}

export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const started = Date.now();
  const rounds = opts.quick ? 1 : 5;
  const counts = opts.quick ? [1_000, 10_000] : [1_000, 100_000, 1_000_000];
  const stacks: Stack[] = [];
  try {
    // memory: sessions like the real one, through the real write path, into the first Redis
    const first = await startStack(counts[0]!, opts, stacks);
    const real = await first.view.sessions.load(first.sessionId);
    if (!real) throw new Error('the session of the login is not in the store');
    const prefix = first.view.config.store.keyPrefix;
    const stored = await first.client.getBuffer(`${prefix}s:{${storeIdOf(first.sessionId)}}`);
    const sealed = stored && unpackSession(stored)?.data;
    if (!sealed) throw new Error('the stored session has no sealed data');
    opts.log(`scale: memory of ${MEMORY_SESSIONS} sessions written through Sessions.create`);
    const memory = await measureMemory(first.client, first.view, real.data, sealed, MEMORY_SESSIONS, opts.log);

    const skipped: string[] = [];
    const measured: Array<{ stack: Stack; fillSeconds: number; fillers: Fillers }> = [];
    const { idleTimeoutMs, absoluteTimeoutMs } = first.view.config.session;
    for (const count of counts) {
      // room for the fill: what the memory phase measured per session, with half again to spare
      const need = count * Math.max(memory.usedMemoryPerSession, 1) * 1.5;
      if (need > freemem()) {
        skipped.push(`${sizeLabel(count)}: needs about ${(need / 2 ** 30).toFixed(1)} GiB, ${(freemem() / 2 ** 30).toFixed(1)} GiB free`);
        opts.log(`scale: skipping ${skipped.at(-1)}`);
        continue;
      }
      const stack = count === first.count ? first : await startStack(count, opts, stacks);
      const fillers = new Fillers(stack.client, prefix, sealed, idleTimeoutMs, absoluteTimeoutMs, indexKindsOf(real.data));
      const t0 = Date.now();
      await fillers.fill(count - 1);
      measured.push({ stack, fillSeconds: (Date.now() - t0) / 1000, fillers });
      opts.log(`scale: ${sizeLabel(count)}: ${count - 1} fillers written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    opts.log('scale: warm-up of the gateways');
    for (const { stack } of measured) {
      await wrk(stack.url, { core: LOAD_CORE, connections: CONNECTIONS, seconds: Math.max(3, opts.seconds), headers: stack.headers });
      await latencyAt(stack.url, { core: LOAD_CORE, rate: opts.rate, seconds: 1, headers: stack.headers });
    }
    const runs = measured.map(() => ({ l: [] as Latency[], t: [] as number[], gw: [] as number[], rd: [] as number[], s: [] as StoreReads[], errors: 0 }));
    for (let round = 1; round <= rounds; round += 1) {
      for (const [i, { stack, fillers }] of measured.entries()) {
        const run = runs[i]!;
        const { url, headers, gateway, redis } = stack;
        const latency = await latencyAt(url, { core: LOAD_CORE, rate: opts.rate, seconds: opts.seconds, headers });
        const [gw0, rd0] = [gateway!.cpuMicros(), redis.cpuMicros()];
        const put = await wrk(url, { core: LOAD_CORE, connections: CONNECTIONS, seconds: opts.seconds, headers });
        const n = Math.max(1, put.requests);
        run.l.push(latency);
        run.t.push(put.requestsPerSecond);
        run.gw.push((gateway!.cpuMicros() - gw0) / n);
        run.rd.push((redis.cpuMicros() - rd0) / n);
        run.errors += latency.errors + put.errors;
        const reads = await storeReads(stack.view!.store, fillers, idleTimeoutMs, Math.min(2, opts.seconds));
        run.s.push(reads);
        opts.log(`scale round ${round}: ${sizeLabel(stack.count)} p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms at ${opts.rate}/s; ${put.requestsPerSecond.toFixed(0)} req/s; store reads p99 ${reads.p99.toFixed(2)} ms, ${reads.perSecond.toFixed(0)}/s`);
      }
    }
    const sizes: SizeResult[] = [];
    for (const [i, { stack, fillSeconds }] of measured.entries()) {
      const run = runs[i]!;
      sizes.push({
        label: sizeLabel(stack.count), sessions: stack.count, fillSeconds, usedMemoryBytes: await usedMemory(stack.client),
        p50: spread(run.l.map((x) => x.p50)), p99: spread(run.l.map((x) => x.p99)), throughput: spread(run.t),
        gatewayCpuMicros: spread(run.gw), redisCpuMicros: spread(run.rd), errors: run.errors,
        storeP50: spread(run.s.map((x) => x.p50)), storeP99: spread(run.s.map((x) => x.p99)), storeReadsPerSecond: spread(run.s.map((x) => x.perSecond)),
      });
    }
    const [small, large] = [sizes[0]!, sizes.at(-1)!];
    return {
      memory, sizes, rate: opts.rate, rounds, seconds: opts.seconds, skipped,
      ratios: {
        of: `${large.label} / ${small.label}`,
        p50: large.p50.median / small.p50.median,
        p99: large.p99.median / small.p99.median,
        throughput: large.throughput.median / small.throughput.median,
        bestP99: large.p99.min / small.p99.min,
        bestThroughput: large.throughput.max / small.throughput.max,
        storeP99: large.storeP99.median / small.storeP99.median,
        storeReadsPerSecond: large.storeReadsPerSecond.median / small.storeReadsPerSecond.median,
      },
      totalSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const stack of stacks) {
      stack.client.disconnect();
      await stack.view?.close();
      await stack.gateway?.stop();
      await stack.redis.stop();
    }
  }
}

const sizeLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));
const B = (n: number) => `${Math.round(n)} B`;

export function formatScale(r: ScaleResult): string {
  const m = r.memory;
  const total = m.usedMemoryPerSession;
  const verdict = total <= TARGET_BYTES_PER_SESSION
    ? `within the target of ${TARGET_BYTES_PER_SESSION} B`
    : `OVER the target of ${TARGET_BYTES_PER_SESSION} B by ${B(total - TARGET_BYTES_PER_SESSION)} (${((total / TARGET_BYTES_PER_SESSION - 1) * 100).toFixed(0)}%)`;
  const p = m.parts;
  const lines = [
    `Scale: Redis memory per session (${m.sessions} sessions through Sessions.create, one user each, so each has index entries of its own)`,
    `  session key, MEMORY USAGE (encoding ${m.encoding}): ${B(m.sessionKeyBytes)}`,
    `  index entries (${m.indexKinds.join(' + ')}: a sorted set each), MEMORY USAGE: ${B(m.indexBytesPerSession)}`,
    `  INFO used_memory delta / ${m.sessions} (hash, index, key space tables): ${B(total)}  <- the target is judged on this: ${verdict}`,
    `  the session holds ${B(p.json)} of JSON, sealed ${B(p.sealed)}: access token ${B(p.accessToken)}, refresh token ${B(p.refreshToken)}, ID token ${B(p.idToken)}, claims ${B(p.claims)}, the rest ${B(p.rest)}`,
    '',
    `Scale: hot path (GET /api/bench, a real session) vs sessions in the store; a Redis and a gateway per size, ${r.rounds} round(s) of ${r.seconds} s, interleaved`,
    table([
      ['sessions', 'used_memory', 'fill s', `p50 ms @${r.rate}/s`, `p99 ms @${r.rate}/s`, `req/s (wrk -c${CONNECTIONS})`, 'gw CPU µs/req', 'redis CPU µs/req', 'errors', 'store read p50 ms', 'p99 ms', 'reads/s'],
      ...r.sizes.map((s) => [
        s.label, `${(s.usedMemoryBytes / 2 ** 20).toFixed(0)} MiB`, s.fillSeconds.toFixed(1), formatSpread(s.p50, 2), formatSpread(s.p99, 2),
        formatSpread(s.throughput), formatSpread(s.gatewayCpuMicros, 1), formatSpread(s.redisCpuMicros, 1), String(s.errors),
        formatSpread(s.storeP50, 2), formatSpread(s.storeP99, 2), formatSpread(s.storeReadsPerSecond),
      ]),
    ]),
    `  ${r.ratios.of}, medians: p50 x${r.ratios.p50.toFixed(2)}, p99 x${r.ratios.p99.toFixed(2)}, throughput x${r.ratios.throughput.toFixed(2)}; best rounds: p99 x${r.ratios.bestP99.toFixed(2)}, throughput x${r.ratios.bestThroughput.toFixed(2)}`,
    `  store reads on random sessions (readSession from the bench process, 16 at a time): p99 x${r.ratios.storeP99.toFixed(2)}, reads/s x${r.ratios.storeReadsPerSecond.toFixed(2)}`,
    '  (redis CPU µs/req near 0 means the gateway served the session from its session cache: the store is read about once a second per session)',
    ...r.sizes.slice(1).map((s) => `  used_memory per session at ${s.label}, over the ${r.sizes[0]!.label} store: ${B((s.usedMemoryBytes - r.sizes[0]!.usedMemoryBytes) / (s.sessions - r.sizes[0]!.sessions))} (fillers of the same layout)`),
    ...r.skipped.map((s) => `  skipped ${s}`),
    `  the scale run took ${r.totalSeconds.toFixed(0)} s`,
  ];
  return lines.join('\n');
}
