import { performance } from 'node:perf_hooks';
import { loginThroughGateway } from '../test/helpers/login.js';
import { BENCH_USER, type BenchIdp } from './gateway.js';
import { burst, expire, failures, inBatches, INSTANCES, non200, slowProvider, type StormStack } from './storm-kit.js';
import { quantile, spread, type Spread } from './stats.js';

// Many sessions expiring together: `count` real logins spread over the instances, every
// access token expired through the store view, then one call per session, all at once.
// Each session must be refreshed exactly once (none lost, none refreshed twice) while the
// provider never has more than instances × tokenConcurrency token requests in flight.

export interface SessionsResult {
  sessions: number;
  loginSeconds: number;
  /** logins tried again after a failure */
  loginRetries: number;
  /** one call per expired session, all at once: until the last answered */
  seconds: number;
  refreshes: number;
  non200: number;
  failures: string;
  /** the second call of every session: all 200 and no refresh at all */
  againNon200: number;
  againFailures: string;
  againRefreshes: number;
  grantRevocations: number;
  refreshFailures: number;
  peakInFlight: number;
  limit: number;
  providerMs: Spread;
  p99: number;
}

const LOGIN_CONCURRENCY = 20;

export async function expiringTogether(
  stack: StormStack,
  idp: BenchIdp,
  opts: { count: number; tokenConcurrency: number; providerLatencyMs: number; log(line: string): void },
): Promise<SessionsResult> {
  const { gateways, pools, view } = stack;
  opts.log(`storm: logging in ${opts.count} sessions (${LOGIN_CONCURRENCY} at a time, over ${INSTANCES} instances)`);
  const loginStarted = performance.now();
  let loginRetries = 0;
  const cookies = await inBatches(Array.from({ length: opts.count }), LOGIN_CONCURRENCY, async (_, i) => {
    // a login is not what is measured: one that fails (a 503 on a busy 2-core machine) is
    // tried again, at most twice, and counted
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await loginThroughGateway(gateways[i % gateways.length]!.url, BENCH_USER)).sessionCookie;
      } catch (err) {
        if (attempt === 3) throw err;
        loginRetries += 1;
      }
    }
  });
  const loginSeconds = (performance.now() - loginStarted) / 1000;
  await inBatches(cookies, 50, (cookie) => expire(view, cookie));
  opts.log(`storm: ${opts.count} sessions expired; one call each, all at once`);

  const provider = slowProvider(idp, opts.providerLatencyMs);
  try {
    idp.resetStats();
    const started = performance.now();
    const first = await burst(pools, cookies.length, (i) => cookies[i]!);
    const seconds = (performance.now() - started) / 1000;
    const refreshes = idp.stats.refreshes;
    const peakInFlight = idp.stats.tokenRequestsPeak;
    const again = await burst(pools, cookies.length, (i) => cookies[i]!);
    return {
      sessions: cookies.length,
      loginSeconds,
      loginRetries,
      seconds,
      refreshes,
      non200: non200(first),
      failures: failures(first),
      againNon200: non200(again),
      againFailures: failures(again),
      againRefreshes: idp.stats.refreshes - refreshes,
      grantRevocations: idp.stats.grantRevocations,
      refreshFailures: idp.stats.refreshFailures,
      peakInFlight,
      limit: INSTANCES * opts.tokenConcurrency,
      providerMs: spread(provider.durations),
      p99: quantile(first.map((c) => c.ms), 0.99),
    };
  } finally {
    provider.stop();
  }
}

/** What went wrong, in words; empty when every check held. */
export function sessionsProblems(r: SessionsResult): string[] {
  const problems: string[] = [];
  if (r.refreshes !== r.sessions) problems.push(`${r.refreshes} refreshes for ${r.sessions} sessions`);
  if (r.non200 > 0) problems.push(`${r.non200} calls not 200 (${r.failures})`);
  if (r.againNon200 > 0) problems.push(`${r.againNon200} second calls not 200 (${r.againFailures})`);
  if (r.againRefreshes > 0) problems.push(`${r.againRefreshes} refreshes on the second call`);
  if (r.grantRevocations > 0) problems.push(`${r.grantRevocations} grants revoked`);
  if (r.refreshFailures > 0) problems.push(`${r.refreshFailures} refreshes refused`);
  if (r.peakInFlight > r.limit) problems.push(`the provider saw ${r.peakInFlight} token requests at once (limit ${r.limit})`);
  return problems;
}
