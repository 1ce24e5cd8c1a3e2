import { pairedEvents, summary, type Delays, type StreamTarget } from './event-pairs.js';
import { mainThreadMicros, onCore } from './processes.js';
import { LOAD_CORE } from './stack.js';

// The live part's event stream (the target: the latency an event stream adds per event).
// Every event is written at once to a direct stream and to one through the gateway
// (event-pairs.ts); what the gateway adds to an event is its delay through the gateway minus
// its delay direct. Rounds of that alternate with rounds where the second stream goes
// through a bare node:http + undici proxy (servers/raw-proxy.ts) on the same core, the
// gateway stopped meanwhile: what any extra process hop costs on this machine in this run,
// the floor the gateway stands on.
// The reader (this process) is pinned to the load core with the origin, the proxies have
// the proxy core: the ladder's placement, so the direct stream never waits for a proxy's
// core and a proxy's hop is the only difference between the two streams.

/** events 5 ms apart: a stream whose every event meets an idle gateway, as a live feed does */
export const EVERY_MS = 5;
const WARM_UP_EVENTS = 100;

export interface EventStreamResult {
  every: number;
  rounds: number;
  /** events through the gateway, each paired with the same event direct */
  events: number;
  /** per event: its delay through the gateway minus its delay direct, ms */
  added: Delays;
  bareEvents: number;
  /** the same through the bare proxy, in its own rounds */
  bareAdded: Delays;
  /** each stream's own delay from the origin's write to the arrival (the gateway's rounds), ms */
  direct: Delays;
  gateway: Delays;
  /** each proxy's main thread (its event loop) per event of its rounds, µs: on a CPU, and runnable but waiting for one */
  gatewayLoop: { run: number; wait: number };
  bareLoop: { run: number; wait: number };
}

export async function eventStream(opts: {
  direct: StreamTarget;
  gateway: StreamTarget;
  bare: StreamTarget;
  gatewayPid: number;
  barePid: number;
  rounds: number;
  /** events per round through the gateway, and through the bare proxy */
  count: number;
  bareCount: number;
}): Promise<EventStreamResult> {
  const { direct, gateway, bare } = opts;
  return onCore(LOAD_CORE, async () => {
    await pairedEvents([direct, gateway], EVERY_MS, WARM_UP_EVENTS);
    await pairedEvents([direct, bare], EVERY_MS, WARM_UP_EVENTS);
    const own: number[][] = [[], []];
    const added: number[] = [];
    const bareAdded: number[] = [];
    const gatewayLoop = { run: 0, wait: 0 };
    const bareLoop = { run: 0, wait: 0 };
    for (let round = 0; round < opts.rounds; round++) {
      const g = await timed(opts.gatewayPid, gatewayLoop, () => pairedEvents([direct, gateway], EVERY_MS, opts.count));
      own[0]!.push(...g.delays[0]!);
      own[1]!.push(...g.delays[1]!);
      added.push(...g.added[0]!);
      const b = await whileStopped(opts.gatewayPid, () => timed(opts.barePid, bareLoop, () => pairedEvents([direct, bare], EVERY_MS, opts.bareCount)));
      bareAdded.push(...b.added[0]!);
    }
    return {
      every: EVERY_MS,
      rounds: opts.rounds,
      events: added.length,
      added: summary(added),
      bareEvents: bareAdded.length,
      bareAdded: summary(bareAdded),
      direct: summary(own[0]!),
      gateway: summary(own[1]!),
      gatewayLoop: { run: gatewayLoop.run / added.length, wait: gatewayLoop.wait / added.length },
      bareLoop: { run: bareLoop.run / bareAdded.length, wait: bareLoop.wait / bareAdded.length },
    };
  });
}

/**
 * `fn` with process `pid` stopped (SIGSTOP, then SIGCONT). An idle gateway still wakes about
 * 100 times a second (prom-client's event-loop delay monitor, a 10 ms timer) and would take
 * the proxy core from the bare proxy now and then; the bare proxy, idle in the gateway's
 * rounds, never wakes. Stopped, the gateway leaves the bare proxy the core to itself, as the
 * gateway has it in its own rounds.
 */
async function whileStopped<T>(pid: number, fn: () => Promise<T>): Promise<T> {
  process.kill(pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** `fn`, with the time the event loop of process `pid` ran and waited meanwhile added to `into` (µs) */
async function timed<T>(pid: number, into: { run: number; wait: number }, fn: () => Promise<T>): Promise<T> {
  const before = mainThreadMicros(pid);
  const result = await fn();
  const after = mainThreadMicros(pid);
  into.run += after.run - before.run;
  into.wait += after.wait - before.wait;
  return result;
}

export function formatEventStream(r: EventStreamResult): string {
  const loop = (l: { run: number; wait: number }) => `${l.run.toFixed(0)} µs on a CPU and ${l.wait.toFixed(0)} µs waiting for one`;
  const d = (x: Delays) => `p50 ${x.p50.toFixed(2)}, p99 ${x.p99.toFixed(2)}, max ${x.max.toFixed(2)} ms`;
  return [
    `  event stream: ${r.events} events ${r.every} ms apart (${r.rounds} round(s)), each written at once to a direct stream and one through the gateway`,
    `    added per event (through the gateway minus direct, the same event): ${d(r.added)}`,
    `    a bare node:http + undici proxy instead (${r.bareEvents} events, rounds interleaved): ${d(r.bareAdded)}`,
    `    each stream's own delay, write to arrival: direct p50 ${r.direct.p50.toFixed(2)} / p99 ${r.direct.p99.toFixed(2)} ms, through the gateway p50 ${r.gateway.p50.toFixed(2)} / p99 ${r.gateway.p99.toFixed(2)} ms (difference of the p99s ${(r.gateway.p99 - r.direct.p99).toFixed(2)} ms)`,
    `    each proxy's event loop per event: the gateway ${loop(r.gatewayLoop)}, the bare proxy ${loop(r.bareLoop)} (waiting: runnable while its core ran something else, its own GC threads included)`,
  ].join('\n');
}
