#!/usr/bin/env node
// A container health check with node's own fetch (the runtime image has no curl):
//   node dist/src/healthcheck.js [URL] [STATUS...]
// URL defaults to http://127.0.0.1:$PORT/healthz (PORT 8080); it is healthy when the answer's
// status is one of STATUS (default 200) within 3 seconds. Exit 0 healthy, 1 not.

const TIMEOUT_MS = 3_000;

async function check(argv: string[]): Promise<boolean> {
  const [url = `http://127.0.0.1:${process.env.PORT ?? 8080}/healthz`, ...statuses] = argv;
  const expected = statuses.length === 0 ? [200] : statuses.map(Number);
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
  await response.body?.cancel();
  if (expected.includes(response.status)) return true;
  process.stderr.write(`${url} answered ${response.status}, expected ${expected.join(' or ')}\n`);
  return false;
}

check(process.argv.slice(2)).then(
  (healthy) => process.exit(healthy ? 0 : 1),
  (e: unknown) => {
    process.stderr.write(`health check failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
