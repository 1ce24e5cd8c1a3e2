// npm run bench: the ladder (L0-L4), the refresh storms and the scale figures, in one run,
// then the issue's targets as this run measured them. `--quick` is one short round of
// everything (what the test runs, so that the bench cannot rot); `--only ladder,storm,scale,live,tls,dpop`
// picks parts; `--rounds N --seconds S` change the ladder's rounds.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { startBenchIdp } from './gateway.js';
import { startTraceSink } from './servers/trace-sink.js';
import { runLadder, RUNG_TITLES } from './ladder.js';
import { formatScale, runScale } from './scale.js';
import { TARGET_BYTES_PER_SESSION } from './scale-store.js';
import { startOrigin, startRedis } from './stack.js';
import { formatSpread, spread, table } from './stats.js';
import { formatLive, runLive } from './live.js';
import { runDpopPart, runTlsPart } from './side-parts.js';
import { formatStorm, runStorm } from './storm.js';
import { sessionsProblems } from './storm-sessions.js';
import { formatTargets, ladderTargets, type Target } from './targets.js';

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
const only = new Set((values.only ?? 'ladder,storm,scale,live,tls,dpop').split(','));
const log = (line: string) => process.stderr.write(`${line}\n`);
/** the scale part's fixed rate when the ladder does not run to set it */
const DEFAULT_RATE = 1000;
/** how far from 1k to 1M sessions latency may move and still count as flat */
const FLAT_WITHIN = 1.25;

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`bff-gateway bench, ${new Date().toISOString()}, ${cpus().length} cores (${cpu}), node ${process.version}${quick ? ', QUICK (not for figures)' : ''}`);

const origin = await startOrigin();
const redis = await startRedis();
const idp = await startBenchIdp();
const traceSink = await startTraceSink();
const targets: Target[] = [];
/** what makes the run fail: wrong answers, lost sessions, extra refreshes (never a timing) */
const failures: string[] = [];
let rate = DEFAULT_RATE;
try {
  if (only.has('ladder')) {
    const latencyRounds = quick ? 1 : rounds * 3;
    const latencySeconds = quick ? seconds : Math.max(2, seconds / 2);
    const ladder = await runLadder({ rounds, seconds, latencyRounds, latencySeconds, connections: 64, origin, redis, idp, traceSink: traceSink.url, log });
    rate = ladder.rate;
    console.log(`\nLadder: ${rounds} round(s) of ${seconds} s (latency: ${latencyRounds} of ${latencySeconds} s), interleaved; wrk -t1 -c64 on core 0 (with the origin and Redis), the proxy alone on core 1; origin: ${origin.kind}`);
    console.log(table([
      ['rung', 'what', 'req/s', 'CPU µs/req', `p50 ms @${rate}/s`, `p99 ms @${rate}/s`, 'errors'],
      ...ladder.results.map((r) => [
        r.name, RUNG_TITLES[r.name], formatSpread(r.throughput), formatSpread(r.cpuMicrosPerRequest, 1),
        formatSpread(r.p50, 2), formatSpread(r.p99, 2), String(r.errors),
      ]),
    ]));
    targets.push(...ladderTargets(ladder.results));
    // the gateway's errors fail the run; a peer's are only reported (the table shows them)
    if (traceSink.bytes() === 0) failures.push('the traced gateway (L3t) exported no spans');
    const gateway = ladder.results.find((r) => r.name === 'L3');
    if (gateway && gateway.errors > 0) failures.push(`the gateway (L3) answered ${gateway.errors} calls with errors`);
  }
  if (only.has('storm')) {
    const storm = await runStorm({ redis, origin, idp, quick, log });
    console.log(`\n${formatStorm(storm)}`);
    targets.push({
      what: 'storm: p99 added by the refresh',
      value: `${storm.addedOfMedians.toFixed(1)} ms (provider ${storm.providerMs.median.toFixed(1)} ms)`,
      goal: '<= provider + 20 ms',
      met: storm.targetMet && storm.problems.length === 0,
    });
    const problems = sessionsProblems(storm.sessions);
    failures.push(...storm.problems); // the sessions checks included
    targets.push({
      what: `storm: ${storm.sessions.sessions} sessions expiring together`,
      value: problems.length ? problems.join('; ') : `${storm.sessions.refreshes} refreshes, none lost, peak ${storm.sessions.peakInFlight} at the provider`,
      goal: `one refresh each, peak <= ${storm.sessions.limit}`,
      met: problems.length === 0,
    });
  }
  if (only.has('scale')) {
    const scale = await runScale({ redis, origin, idp, quick, rate, seconds: quick ? 1 : 3, log });
    console.log(`\n${formatScale(scale)}`);
    const perSession = scale.memory.usedMemoryPerSession;
    targets.push({ what: 'Redis memory per session', value: `${perSession.toFixed(0)} B`, goal: `<= ${TARGET_BYTES_PER_SESSION} B`, met: perSession <= TARGET_BYTES_PER_SESSION });
    const { ratios } = scale;
    targets.push({
      what: `hot path, ${ratios.of}`,
      value: `p99 x${ratios.p99.toFixed(2)}, store read p99 x${ratios.storeP99.toFixed(2)}`,
      goal: `flat (within x${FLAT_WITHIN})`,
      met: ratios.p99 <= FLAT_WITHIN && ratios.storeP99 <= FLAT_WITHIN,
    });
  }
  if (only.has('tls')) {
    const tls = await runTlsPart(rounds, seconds);
    console.log(`\nHTTPS upstream (routes[].tls, a private CA) against plain http, the L3 hot path:\n${tls.output.trim()}`);
    targets.push({ what: 'HTTPS upstream / plain upstream throughput', value: tls.ratio.toFixed(2), goal: '>= 0.8', met: tls.ratio >= 0.8 });
  }
  if (only.has('dpop')) {
    const dpop = await runDpopPart(rounds, seconds);
    console.log(`\nDPoP (oidc.dpop) against bearer:\n${dpop.output.trim()}`);
    targets.push({ what: 'DPoP / bearer (CPU per call)', value: `${dpop.ratio.toFixed(2)}x`, goal: '>= 0.7x', met: dpop.ratio >= 0.7 });
  }
  if (only.has('live')) {
    const live = await runLive({ redis, idp, quick, rounds: Math.max(rounds, 2), seconds: quick ? 1 : 3, log });
    console.log(`\n${formatLive(live)}`);
    const ratio = spread(live.gateway).median / spread(live.direct).median;
    targets.push({ what: 'WebSocket messages/s, gateway/direct', value: `x${ratio.toFixed(2)}`, goal: '>= x0.8', met: ratio >= 0.8 });
    targets.push({
      what: `gateway memory per idle WebSocket (${live.sockets} open)`,
      value: `${(live.bytesPerSocket / 1024).toFixed(1)} KB`,
      goal: '<= 20 KB',
      met: live.bytesPerSocket <= 20 * 1024,
    });
    const added = live.sse.added.p99;
    targets.push({
      what: 'event stream: p99 added per event',
      value: `${added.toFixed(2)} ms, each event through the gateway against the same event direct (a bare node:http proxy: ${live.sse.bareAdded.p99.toFixed(2)} ms)`,
      goal: '<= 2 ms',
      met: added <= 2,
    });
  }
  console.log(`\nTargets (medians of this run):\n${formatTargets(targets)}`);
  if (failures.length > 0) {
    console.log(`\nFAILED (correctness, not speed):\n${failures.map((f) => `  ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
} finally {
  await traceSink.close();
  await idp.close();
  await redis.stop();
  await origin.stop();
}
