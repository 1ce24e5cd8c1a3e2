// An open-loop load generator: requests start on a fixed schedule whatever the answers do
// (a slow answer does not delay the next request, so slowness is not hidden). Each latency
// counts from the moment the request was sent: node's timers wake about every millisecond,
// and that lateness belongs to the generator, not to the server. Connections are opened and
// the code warmed before the measured part. Run as its own process (pinned beside wrk);
// prints one JSON line: { p50, p99, max, sent, errors }.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

const [url, rateArg, secondsArg, headersArg] = process.argv.slice(2);
if (!url || !rateArg || !secondsArg) throw new Error('usage: fixed-rate URL RATE SECONDS [HEADERS_JSON]');
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const target = new URL(url);
const headers = headersArg ? (JSON.parse(headersArg) as Record<string, string>) : {};
const pool = new Pool(target.origin, { connections: 64 });

const latencies: number[] = [];
let errors = 0;
const inFlight: Promise<void>[] = [];

async function one(record: boolean): Promise<void> {
  const sent = performance.now();
  try {
    const { statusCode, body } = await pool.request({ path: target.pathname + target.search, method: 'GET', headers });
    await body.dump();
    if (statusCode >= 400) errors += 1;
  } catch {
    errors += 1;
  }
  if (record) latencies.push(performance.now() - sent);
}

// warm-up: every connection opened, the code paths compiled; nothing recorded
for (let i = 0; i < 20; i += 1) await Promise.all(Array.from({ length: 64 }, () => one(false)));
errors = 0;
const start = performance.now() + 5;

for (let sent = 0; sent < total; ) {
  const now = performance.now();
  // every request whose time has come starts now, however late the timer woke
  while (sent < total && start + (sent * 1000) / rate <= now) {
    inFlight.push(one(true));
    sent += 1;
  }
  await sleep(1);
}
await Promise.all(inFlight);
await pool.close();
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ p50: at(0.5), p99: at(0.99), max: at(1), sent: total, errors })}\n`);
