import { performance } from 'node:perf_hooks';
import { readCorpus, saveToCorpus } from './corpus.js';
import { cookieHeaders } from './generators/cookie.js';
import { logoutTokens } from './generators/logout.js';
import { envelopes } from './generators/soap.js';
import { requestPaths, returnTos, templates, type Generator } from './generators/text.js';
import { Rng } from './rng.js';
import { openTargets, TARGET_NAMES, type FuzzTargets, type TargetName } from './targets.js';

// npm run fuzz: FUZZ_RUNS generated inputs (default 10^6) against each edge parser, a
// table of inputs/s, every failing input saved to the corpus, exit 1 on any failure.
//   FUZZ_RUNS=100000      inputs per target
//   FUZZ_SEED=42          reproduce a run (default: the time)
//   FUZZ_TARGETS=cookie,returnTo   only these

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 0x1_0000_0000);
const ONLY = process.env.FUZZ_TARGETS?.split(',').map((s) => s.trim());
/** async checks in flight at once (the logout token checks) */
const CONCURRENCY = 64;
/** failing inputs saved per target and failure message, so one bug does not flood the corpus */
const SAVED_PER_FAILURE = 3;

// The parsers refuse most inputs by throwing, and capturing a stack was the largest single
// cost of a refused envelope; a failure's input is saved, so its stack can be had by replaying it.
Error.stackTraceLimit = 0;

interface Result { target: TargetName; inputs: number; seconds: number; failures: number; kinds: Map<string, number> }

function generatorOf(name: TargetName, rng: Rng, targets: FuzzTargets): Generator {
  const corpus = readCorpus(name).map((e) => e.input);
  switch (name) {
    case 'interpolate': return templates(rng, corpus);
    case 'cookie': return cookieHeaders(rng, corpus);
    case 'returnTo': return returnTos(rng, corpus);
    case 'upstreamPath': return requestPaths(rng, corpus);
    case 'soapEnvelope': return envelopes(rng, corpus);
    case 'logoutToken': return logoutTokens(rng, corpus, targets.logout);
  }
}

const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]!.slice(0, 160)}` : `thrown ${typeof e}: ${String(e).slice(0, 160)}`);

async function fuzz(name: TargetName, targets: FuzzTargets): Promise<Result> {
  const rng = new Rng(SEED ^ name.length * 0x45d9f3b);
  const next = generatorOf(name, rng, targets);
  const check = targets.check[name];
  const kinds = new Map<string, number>();
  let failures = 0;
  const fail = (input: string, error: unknown) => {
    failures++;
    const kind = describe(error);
    const seen = kinds.get(kind) ?? 0;
    kinds.set(kind, seen + 1);
    if (seen < SAVED_PER_FAILURE) saveToCorpus({ target: name, input, note: kind, found: `${new Date().toISOString()} seed ${SEED}` });
  };
  const started = performance.now();
  let pending: Promise<void>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const input = next();
    try {
      const result = check(input);
      if (result !== undefined) pending.push(result.catch((e: unknown) => fail(input, e)));
    } catch (e) {
      fail(input, e);
    }
    if (pending.length >= CONCURRENCY) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  return { target: name, inputs: RUNS, seconds: (performance.now() - started) / 1000, failures, kinds };
}

async function main(): Promise<void> {
  const targets = await openTargets();
  const results: Result[] = [];
  console.log(`fuzz: ${RUNS} inputs per target, seed ${SEED}, ${new Date().toISOString()}`);
  try {
    for (const name of TARGET_NAMES) {
      if (ONLY && !ONLY.includes(name)) continue;
      const result = await fuzz(name, targets);
      results.push(result);
      console.log(`  ${name}: ${Math.round(result.inputs / result.seconds)} inputs/s, ${result.failures} failures`);
      for (const [kind, count] of result.kinds) console.log(`    ${count} × ${kind}`);
    }
  } finally {
    await targets.close();
  }
  console.log('\n| target | inputs | seconds | inputs/s | failures |\n| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(`| ${r.target} | ${r.inputs} | ${r.seconds.toFixed(1)} | ${Math.round(r.inputs / r.seconds)} | ${r.failures} |`);
  }
  const failed = results.some((r) => r.failures > 0);
  if (failed) console.log('\nfailing inputs were saved under test/fixtures/fuzz/<target>/ (npm test replays them)');
  process.exitCode = failed ? 1 : 0;
}

await main();
