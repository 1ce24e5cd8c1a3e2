import { performance } from 'node:perf_hooks';
import { loginThroughGateway } from '../test/helpers/login.js';
import { BENCH_USER, type BenchIdp } from './gateway.js';
import { expiringTogether, sessionsProblems, type SessionsResult } from './storm-sessions.js';
import { burst, expire, failures, INSTANCES, non200, PLACEMENT, slowProvider, startStormStack, type Call, type StormStack } from './storm-kit.js';
import { type BenchRedis, type Origin } from './stack.js';
import { formatSpread, quantile, spread, table, type Spread } from './stats.js';

// The refresh storms (the issue's words): "1,000 concurrent calls on one expired session
// spread over 3 instances (one refresh at the provider; p99 of those calls against the
// provider's own latency), and 1,000 sessions expiring together (1,000 refreshes, none lost,
// the provider never sees more than a configured concurrency)". Target: storm p99 <= the
// provider's latency + 20 ms. On a 2-core machine 1,000 concurrent calls cost time by
// themselves, so each storm is paired with a burst of the same calls on the fresh session
// just before it, and the target is read as: storm p99 - burst p99 <= provider + 20 ms.

export interface StormOptions {
  redis: BenchRedis;
  origin: Origin;
  idp: BenchIdp;
  quick: boolean;
  log(line: string): void;
}

export interface StormRound {
  burstP99: number;
  p50: number;
  p99: number;
  max: number;
  /** the one refresh's time at the provider, ms */
  providerMs: number;
  /** when the refresh reached the provider, ms after the storm began */
  providerAtMs: number;
  refreshes: number;
  non200: number;
  failures: string;
  grantRevocations: number;
}

export interface StormResult {
  placement: string;
  instances: number;
  calls: number;
  tokenConcurrency: number;
  providerLatencyMs: number;
  rounds: StormRound[];
  burstP99: Spread;
  p50: Spread;
  p99: Spread;
  max: Spread;
  providerMs: Spread;
  /** storm p99 - burst p99, per round */
  added: Spread;
  /** median storm p99 - median burst p99 */
  addedOfMedians: number;
  /** addedOfMedians <= median provider time + 20 ms */
  targetMet: boolean;
  sessions: SessionsResult;
  problems: string[];
  seconds: number;
}

const CALLS = 1000;
const TOKEN_CONCURRENCY = 4;
const PROVIDER_LATENCY_MS = 50;
const TARGET_SLACK_MS = 20;

export async function runStorm(opts: StormOptions): Promise<StormResult> {
  const started = Date.now();
  const roundCount = opts.quick ? 1 : 5;
  opts.log(`storm: starting ${INSTANCES} gateways (tokenConcurrency ${TOKEN_CONCURRENCY}, provider latency ${PROVIDER_LATENCY_MS} ms)`);
  const stack = await startStormStack({ idp: opts.idp, redis: opts.redis, origin: opts.origin, tokenConcurrency: TOKEN_CONCURRENCY });
  try {
    const rounds = await oneSession(stack, opts.idp, roundCount, opts.log);
    const sessions = await expiringTogether(stack, opts.idp, {
      count: opts.quick ? 100 : 1000, tokenConcurrency: TOKEN_CONCURRENCY, providerLatencyMs: PROVIDER_LATENCY_MS, log: opts.log,
    });
    const added = rounds.map((r) => r.p99 - r.burstP99);
    const problems = [...rounds.flatMap(roundProblems), ...sessionsProblems(sessions)];
    const p99 = spread(rounds.map((r) => r.p99));
    const burstP99 = spread(rounds.map((r) => r.burstP99));
    const providerMs = spread(rounds.map((r) => r.providerMs));
    const addedOfMedians = p99.median - burstP99.median;
    return {
      placement: PLACEMENT,
      instances: INSTANCES,
      calls: CALLS,
      tokenConcurrency: TOKEN_CONCURRENCY,
      providerLatencyMs: PROVIDER_LATENCY_MS,
      rounds,
      burstP99,
      p50: spread(rounds.map((r) => r.p50)),
      p99,
      max: spread(rounds.map((r) => r.max)),
      providerMs,
      added: spread(added),
      addedOfMedians,
      targetMet: addedOfMedians <= providerMs.median + TARGET_SLACK_MS,
      sessions,
      problems,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await stack.close();
  }
}

/** 1,000 calls at once on one session, fresh (the burst) then just expired (the storm), per round. */
async function oneSession(stack: StormStack, idp: BenchIdp, roundCount: number, log: (line: string) => void): Promise<StormRound[]> {
  const { sessionCookie } = await loginThroughGateway(stack.gateways[0]!.url, BENCH_USER);
  const calls = (): Promise<Call[]> => burst(stack.pools, CALLS, () => sessionCookie);
  const warm = await calls(); // opens the pools' connections
  if (non200(warm) > 0) log(`storm: warm-up: ${non200(warm)} of ${CALLS} calls not 200 (${failures(warm)})`);
  const rounds: StormRound[] = [];
  for (let round = 1; round <= roundCount; round += 1) {
    const fresh = await calls();
    await expire(stack.view, sessionCookie);
    idp.resetStats();
    const provider = slowProvider(idp, PROVIDER_LATENCY_MS);
    let storm: Call[];
    const stormStarted = performance.now();
    try {
      storm = await calls();
    } finally {
      provider.stop();
    }
    const ms = storm.map((c) => c.ms);
    rounds.push({
      burstP99: quantile(fresh.map((c) => c.ms), 0.99),
      p50: quantile(ms, 0.5),
      p99: quantile(ms, 0.99),
      max: Math.max(...ms),
      providerMs: spread(provider.durations).median,
      providerAtMs: (provider.arrivals[0] ?? NaN) - stormStarted,
      refreshes: idp.stats.refreshes,
      non200: non200(storm) + non200(fresh),
      failures: failures([...fresh, ...storm]),
      grantRevocations: idp.stats.grantRevocations,
    });
    const r = rounds.at(-1)!;
    log(`storm: round ${round}/${roundCount}: burst p99 ${r.burstP99.toFixed(1)} ms, storm p99 ${r.p99.toFixed(1)} ms, provider ${r.providerMs.toFixed(1)} ms, ${r.refreshes} refresh(es) (reached the provider at +${r.providerAtMs.toFixed(0)} ms), ${r.non200} not 200`);
  }
  return rounds;
}

function roundProblems(r: StormRound, i: number): string[] {
  const problems: string[] = [];
  if (r.refreshes !== 1) problems.push(`storm round ${i + 1}: ${r.refreshes} refreshes (want 1)`);
  if (r.non200 > 0) problems.push(`storm round ${i + 1}: ${r.non200} calls not 200 (${r.failures})`);
  if (r.grantRevocations > 0) problems.push(`storm round ${i + 1}: ${r.grantRevocations} grants revoked`);
  return problems;
}

export function formatStorm(r: StormResult): string {
  const s = r.sessions;
  const ms = (x: Spread) => formatSpread(x, 1);
  return [
    `Refresh storms: ${r.placement}; tokenConcurrency ${r.tokenConcurrency}; provider latency ${r.providerLatencyMs} ms injected at the IdP; ${r.rounds.length} round(s), median (min-max)`,
    `One expired session, ${r.calls} concurrent calls round-robin over ${r.instances} instances ('refresh at provider': ms after the storm began):`,
    table([
      ['ms', 'burst p99 (fresh)', 'storm p50', 'storm p99', 'storm max', 'provider', 'refresh at provider', 'added = storm p99 - burst p99'],
      ...r.rounds.map((x, i) => [`round ${i + 1}`, ...[x.burstP99, x.p50, x.p99, x.max, x.providerMs, x.providerAtMs, x.p99 - x.burstP99].map((v) => v.toFixed(1))]),
      ['median (min-max)', ms(r.burstP99), ms(r.p50), ms(r.p99), ms(r.max), ms(r.providerMs), ms(spread(r.rounds.map((x) => x.providerAtMs))), ms(r.added)],
    ]),
    `  target: storm p99 - burst p99 <= provider + ${TARGET_SLACK_MS} ms, on medians: ${r.addedOfMedians.toFixed(1)} <= `
      + `${(r.providerMs.median + TARGET_SLACK_MS).toFixed(1)}: ${r.targetMet ? 'met' : 'NOT met'} (noise: burst p99 spans ${(r.burstP99.max - r.burstP99.min).toFixed(0)} ms across rounds)`,
    `  refreshes per storm: ${r.rounds.map((x) => x.refreshes).join(', ')} (want 1); calls not 200: ${r.rounds.reduce((n, x) => n + x.non200, 0)}${r.rounds.some((x) => x.failures) ? ` (${r.rounds.map((x) => x.failures).filter(Boolean).join('; ')})` : ''}; grants revoked: ${r.rounds.reduce((n, x) => n + x.grantRevocations, 0)}`,
    `${s.sessions} sessions expiring together (logins took ${s.loginSeconds.toFixed(1)} s, ${s.loginRetries} retried): ${s.refreshes} refreshes in ${s.seconds.toFixed(2)} s (p99 call ${s.p99.toFixed(0)} ms), ${s.non200} not 200${s.failures ? ` (${s.failures})` : ''}; `
      + `second call: ${s.againNon200} not 200${s.againFailures ? ` (${s.againFailures})` : ''}, ${s.againRefreshes} refreshes; grants revoked ${s.grantRevocations}; `
      + `provider peak in flight ${s.peakInFlight} (limit ${s.limit} = ${r.instances} x ${r.tokenConcurrency}), provider time ${formatSpread(s.providerMs, 1)} ms`,
    r.problems.length ? `PROBLEMS: ${r.problems.join('; ')}` : 'checks: all held',
    `(${r.seconds.toFixed(0)} s in all)`,
  ].join('\n');
}
