import { pairedEvents, summary, type Delays, type StreamTarget } from './event-pairs.js';
import { mainThreadMicros, onCore } from './processes.js';
import { LOAD_CORE } from './stack.js';

// The live part's event stream (the target: the latency an event stream adds per event).
// Every event is written at once to a direct stream and to one through the gateway
// (event-pairs.ts); what the gateway adds to an event is its delay through the gateway minus
// its delay direct. Rounds of that alternate with rounds where the second stream goes
// through a bare node:http + undici proxy (servers/raw-proxy.ts) on the same core: what any
// extra process hop costs on this machine in this run, the floor the gateway stands on.
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
  /** the gateway's main thread per event, µs: on a CPU, and runnable but waiting for one */
  gatewayRun: number;
  gatewayWait: number;
}

export async function eventStream(opts: {
  direct: StreamTarget;
  gateway: StreamTarget;
  bare: StreamTarget;
  gatewayPid: number;
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
    let run = 0;
    let wait = 0;
    for (let round = 0; round < opts.rounds; round++) {
      const before = mainThreadMicros(opts.gatewayPid);
      const g = await pairedEvents([direct, gateway], EVERY_MS, opts.count);
      const after = mainThreadMicros(opts.gatewayPid);
      run += after.run - before.run;
      wait += after.wait - before.wait;
      own[0]!.push(...g.delays[0]!);
      own[1]!.push(...g.delays[1]!);
      added.push(...g.added[0]!);
      bareAdded.push(...(await pairedEvents([direct, bare], EVERY_MS, opts.bareCount)).added[0]!);
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
      gatewayRun: run / added.length,
      gatewayWait: wait / added.length,
    };
  });
}

export function formatEventStream(r: EventStreamResult): string {
  const d = (x: Delays) => `p50 ${x.p50.toFixed(2)}, p99 ${x.p99.toFixed(2)}, max ${x.max.toFixed(2)} ms`;
  return [
    `  event stream: ${r.events} events ${r.every} ms apart (${r.rounds} round(s)), each written at once to a direct stream and one through the gateway`,
    `    added per event (through the gateway minus direct, the same event): ${d(r.added)}`,
    `    a bare node:http + undici proxy instead (${r.bareEvents} events, rounds interleaved): ${d(r.bareAdded)}`,
    `    each stream's own delay, write to arrival: direct p50 ${r.direct.p50.toFixed(2)} / p99 ${r.direct.p99.toFixed(2)} ms, through the gateway p50 ${r.gateway.p50.toFixed(2)} / p99 ${r.gateway.p99.toFixed(2)} ms (difference of the p99s ${(r.gateway.p99 - r.direct.p99).toFixed(2)} ms)`,
    `    the gateway's event loop per event: ${r.gatewayRun.toFixed(0)} µs on a CPU, ${r.gatewayWait.toFixed(0)} µs runnable and waiting for one`,
  ].join('\n');
}
