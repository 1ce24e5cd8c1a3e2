// npm run bench: the ladder (L0-L4), the refresh storms and the scale figures, in one run.
// `--quick` is one short round of everything (what the test runs so the bench cannot rot).
import { parseArgs } from 'node:util';
import { startBenchIdp } from './gateway.js';
import { runLadder, RUNG_TITLES } from './ladder.js';
import { startOrigin, startRedis } from './stack.js';
import { formatSpread, table } from './stats.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const seconds = Number(values.seconds ?? (quick ? 1 : 5));
const only = new Set((values.only ?? 'ladder,storm,scale').split(','));
const log = (line: string) => process.stderr.write(`${line}\n`);

const origin = await startOrigin();
const redis = await startRedis();
const idp = await startBenchIdp();
try {
  if (only.has('ladder')) {
    const { results, rate } = await runLadder({
      rounds, seconds, latencySeconds: seconds, connections: 64, origin, redis, idp, log,
    });
    console.log(`\nLadder: ${rounds} rounds of ${seconds} s, wrk -t1 -c64 on core 0, proxy alone on core 1; origin: ${origin.kind}`);
    console.log(table([
      ['rung', 'what', 'req/s', 'CPU µs/req', `p50 ms @${rate}/s`, `p99 ms @${rate}/s`, 'errors'],
      ...results.map((r) => [
        r.name, RUNG_TITLES[r.name], formatSpread(r.throughput), formatSpread(r.cpuMicrosPerRequest, 1),
        formatSpread(r.p50, 2), formatSpread(r.p99, 2), String(r.errors),
      ]),
    ]));
  }
} finally {
  await idp.close();
  await redis.stop();
  await origin.stop();
}
