import http from 'node:http';
import { quantile } from './stats.js';

// The event stream's latency, paired: the live origin writes every event in the same moment
// to streams that are open at the same time (one direct, the others through a proxy), each
// event carrying its sequence number and the moment of that stream's write; this process
// reads them all. An event's delay on a stream is its arrival here minus its write there;
// what a proxy adds to THAT event is its delay through the proxy minus its delay direct.
// Both arrivals are read by one process and both writes made by another, so neither
// process's clock offset enters the difference, and both ran in the same moment of the
// machine: the noise of one time window against another (two runs one after the other)
// drops out, what the extra hop itself costs stays.

export interface StreamTarget {
  /** the stream's URL without the query (the origin's /events, or the gateway's route to it) */
  url: string;
  headers: Record<string, string>;
}

/** p50, p99 and max of some delays, ms */
export interface Delays {
  p50: number;
  p99: number;
  max: number;
}

export interface PairedEvents {
  /** per stream, in the order given: each event's delay from the origin's write to its arrival (events that came on every stream) */
  delays: number[][];
  /** per stream after the first: its delay minus the first stream's, event by event */
  added: number[][];
}

const now = () => performance.timeOrigin + performance.now();
let pairs = 0;

/** Sends `count` events `every` ms apart to all `targets` at once; the first target is the reference (direct). */
export async function pairedEvents(targets: readonly StreamTarget[], every: number, count: number): Promise<PairedEvents> {
  const query = `?every=${every}&count=${count}&pair=${process.pid}-${++pairs}&ways=${targets.length}`;
  const streams = await Promise.all(targets.map((t) => readStream(t.url + query, t.headers, count)));
  const delays = streams.map(() => [] as number[]);
  const added = streams.slice(1).map(() => [] as number[]);
  for (let seq = 1; seq <= count; seq++) {
    const d = streams.map((s) => s.arrived[seq]! - s.sent[seq]!);
    if (d.some((x) => Number.isNaN(x))) continue;
    d.forEach((x, i) => delays[i]!.push(x));
    for (let i = 1; i < d.length; i++) added[i - 1]!.push(d[i]! - d[0]!);
  }
  return { delays, added };
}

export function summary(xs: readonly number[]): Delays {
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: quantile(xs, 1) };
}

/**
 * One stream read to its end with node:http (its 'data' callback runs straight from the
 * socket's read, without a web stream's promises between): each event's write and arrival
 * moments by sequence number (NaN where none came).
 */
function readStream(url: string, headers: Record<string, string>, count: number): Promise<{ sent: Float64Array; arrived: Float64Array }> {
  const sent = new Float64Array(count + 1).fill(NaN);
  const arrived = new Float64Array(count + 1).fill(NaN);
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`event stream ${url}: ${response.statusCode}`));
        return;
      }
      response.setEncoding('latin1');
      let pending = '';
      response.on('data', (chunk: string) => {
        const at = now();
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) !== -1) {
          const [seq, time] = pending.slice(6, end).split(' '); // "data: SEQ SENT"
          pending = pending.slice(end + 2);
          const i = Number(seq);
          if (i >= 1 && i <= count) {
            sent[i] = Number(time);
            arrived[i] = at;
          }
        }
      });
      response.once('end', () => resolve({ sent, arrived }));
      response.once('error', reject);
    });
    request.once('error', reject);
  });
}
