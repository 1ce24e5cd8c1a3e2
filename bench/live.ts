import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { loginThroughGateway } from '../test/helpers/login.js';
import { BENCH_USER, startGateway, type BenchIdp } from './gateway.js';
import { eventStream, formatEventStream, type EventStreamResult } from './live-events.js';
import { cpuMicrosOf, onCore, startServer } from './processes.js';
import { LOAD_CORE, PROXY_CORE, serverScript, type BenchRedis } from './stack.js';
import { spread } from './stats.js';

// The live part: WebSocket messages per second through the gateway against a direct
// connection to the origin (rounds interleaved), the gateway's memory per idle open socket,
// and the latency an event stream adds per event (each event written at once to a direct
// stream and one through the gateway, live-events.ts). The gateway is the built CLI on the proxy core, the live origin
// (servers/live-origin.ts) on the load core, the clients in this process; while messages
// are counted this process is pinned to the load core too, as wrk is in the ladder.

export interface LiveResult {
  /** messages/s per round */
  direct: number[];
  gateway: number[];
  /** the gateway's CPU (user + system) per echo, µs, per gateway round: one message in, its echo out */
  gatewayCpuPerEcho: number[];
  /** the origin's CPU per echo, µs, per round: direct and through the gateway */
  originCpuPerEcho: { direct: number[]; gateway: number[] };
  sockets: number;
  bytesPerSocket: number;
  sse: EventStreamResult;
}

/** 10,000 would take 20,000 descriptors in the gateway (client + upstream side): past a common `ulimit -n` of 20,000 */
const IDLE_SOCKETS = 9_000;
const CLIENTS = 32;
const WINDOW = 16;
const PAYLOAD = Buffer.alloc(64, 97);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLive(opts: { redis: BenchRedis; idp: BenchIdp; quick: boolean; rounds: number; seconds: number; log: (line: string) => void }): Promise<LiveResult> {
  const origin = await startServer(LOAD_CORE, process.execPath, [serverScript('live-origin')]);
  const originUrl = `http://127.0.0.1:${origin.port}`;
  const gateway = await startGateway({
    idp: opts.idp,
    redisUrl: opts.redis.url,
    upstream: originUrl,
    routes: [
      { prefix: '/live', upstream: originUrl, websocket: true },
      { prefix: '/api', upstream: originUrl },
    ],
  });
  try {
    const { sessionCookie } = await loginThroughGateway(gateway.url, { username: BENCH_USER.username, password: BENCH_USER.password });
    const viaGateway = { url: `${gateway.url.replace('http', 'ws')}/live/echo`, headers: { cookie: sessionCookie, origin: gateway.url } };
    const direct = { url: `${originUrl.replace('http', 'ws')}/echo`, headers: {} };
    const result: Omit<LiveResult, 'sse'> = { direct: [], gateway: [], gatewayCpuPerEcho: [], originCpuPerEcho: { direct: [], gateway: [] }, sockets: 0, bytesPerSocket: 0 };
    for (let round = 0; round < opts.rounds; round++) {
      opts.log(`live: messages round ${round + 1}/${opts.rounds}`);
      // the clients on the load core with the origin, the gateway alone on the proxy core (the ladder's placement)
      const d = await onCore(LOAD_CORE, () => messagesPerSecond(direct, opts.seconds * 1000, [origin.cpuMicros]));
      result.direct.push(d.rate);
      result.originCpuPerEcho.direct.push(d.cpuPerEcho[0]!);
      const g = await onCore(LOAD_CORE, () => messagesPerSecond(viaGateway, opts.seconds * 1000, [origin.cpuMicros, () => cpuMicrosOf(gateway.child.pid!)]));
      result.gateway.push(g.rate);
      result.originCpuPerEcho.gateway.push(g.cpuPerEcho[0]!);
      result.gatewayCpuPerEcho.push(g.cpuPerEcho[1]!);
    }
    // no socket of the rounds may still be closing while event delays are measured
    await socketsClosed(gateway.url);
    opts.log('live: event stream latency');
    // 6 rounds of 500 events through the gateway and 300 through the bare proxy, 5 ms apart:
    // 24 s; 3,000 events put the p99 at the 30th worst; short rounds spread a noisy moment of
    // the machine over both proxies
    const bare = await startServer(PROXY_CORE, process.execPath, [serverScript('raw-proxy'), originUrl]);
    let sse: EventStreamResult;
    try {
      sse = await eventStream({
        direct: { url: `${originUrl}/events`, headers: {} },
        gateway: { url: `${gateway.url}/api/events`, headers: { cookie: sessionCookie, 'x-csrf': '1' } },
        bare: { url: `http://127.0.0.1:${bare.port}/events`, headers: {} },
        gatewayPid: gateway.child.pid!,
        barePid: bare.child.pid!,
        rounds: opts.quick ? 1 : 6,
        count: opts.quick ? 100 : 500,
        bareCount: opts.quick ? 100 : 300,
      });
    } finally {
      await bare.stop();
    }
    // last: after 9,000 sockets the gateway's old space is full of what they left, and the
    // major collections that clear it would land in the event delays (measured above)
    opts.log('live: idle sockets');
    const sockets = opts.quick ? 500 : IDLE_SOCKETS;
    result.sockets = sockets;
    result.bytesPerSocket = await memoryPerSocket(gateway.child.pid!, viaGateway, sockets);
    return { ...result, sse };
  } finally {
    await gateway.stop();
    await origin.stop();
  }
}

function open(target: { url: string; headers: Record<string, string> }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(target.url, { headers: target.headers, perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
    if (s.readyState === WebSocket.CLOSED) return resolve();
    s.once('close', () => resolve());
    s.close();
  })));
}

/**
 * CLIENTS sockets, each keeping WINDOW 64-byte messages in flight to an echo; echoes per
 * second, and the CPU each of `processes` used per echo over the same window (µs).
 */
async function messagesPerSecond(
  target: { url: string; headers: Record<string, string> },
  ms: number,
  processes: (() => number)[],
): Promise<{ rate: number; cpuPerEcho: number[] }> {
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => open(target)));
  let echoes = 0;
  let running = true;
  for (const socket of sockets) {
    socket.on('message', () => {
      echoes++;
      if (running) socket.send(PAYLOAD, { binary: false });
    });
    for (let i = 0; i < WINDOW; i++) socket.send(PAYLOAD, { binary: false });
  }
  await sleep(Math.min(1_000, ms / 4)); // warm-up
  const start = echoes;
  const started = performance.now();
  const cpuBefore = processes.map((cpu) => cpu());
  await sleep(ms);
  const counted = echoes - start;
  const cpuPerEcho = processes.map((cpu, i) => (cpu() - cpuBefore[i]!) / counted);
  const rate = (counted * 1000) / (performance.now() - started);
  running = false;
  await closeAll(sockets);
  return { rate, cpuPerEcho };
}

/** Resolves once the gateway reports no open WebSocket (at most 30 s), then after a second more. */
async function socketsClosed(gatewayUrl: string): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 200) {
    const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
    if (!/^bff_websocket_connections\{[^}]*\} [1-9]/m.test(metrics)) break;
    await sleep(200);
  }
  await sleep(1_000);
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** The gateway's resident memory grown by `count` idle sockets, per socket. */
async function memoryPerSocket(pid: number, target: { url: string; headers: Record<string, string> }, count: number): Promise<number> {
  await closeAll(await Promise.all(Array.from({ length: 100 }, () => open(target)))); // warm the code paths
  await sleep(1_000);
  const before = rssBytes(pid);
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 200) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => open(target)))));
  }
  await sleep(2_000);
  const after = rssBytes(pid);
  await closeAll(sockets);
  return (after - before) / count;
}

export function formatLive(r: LiveResult): string {
  const median = (xs: number[]) => spread(xs).median;
  const rounds = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  return [
    `Live: WebSocket messages/s (${CLIENTS} sockets x ${WINDOW} 64-byte messages in flight, echoes counted; rounds interleaved)`,
    `  direct to the origin:  ${rounds(r.direct)} (median ${median(r.direct).toFixed(0)})`,
    `  through the gateway:   ${rounds(r.gateway)} (median ${median(r.gateway).toFixed(0)})`,
    `  gateway/direct:        x${(median(r.gateway) / median(r.direct)).toFixed(2)}`,
    `  CPU per echo (µs, median): gateway ${median(r.gatewayCpuPerEcho).toFixed(1)}; origin ${median(r.originCpuPerEcho.direct).toFixed(1)} direct, ${median(r.originCpuPerEcho.gateway).toFixed(1)} through the gateway`,
    `  gateway memory per idle open socket at ${r.sockets} sockets: ${(r.bytesPerSocket / 1024).toFixed(1)} KB (RSS growth / sockets)`,
    formatEventStream(r.sse),
  ].join('\n');
}
