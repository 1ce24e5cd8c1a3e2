import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loginThroughGateway } from '../test/helpers/login.js';
import { BENCH_USER, startBenchIdp, startGateway } from './gateway.js';
import { wrk } from './load/wrk.js';
import { startServer } from './processes.js';
import { LOAD_CORE, serverScript, startRedis } from './stack.js';
import { formatSpread, spread } from './stats.js';

// The TLS rung (npm run build && node dist/bench/tls-upstream.js [ROUNDS] [SECONDS]): the
// gateway's session hot path (L3) to the node origin over plain http and over https (a
// private CA in routes[].tls), rounds interleaved. Target: https at 0.8x plain or better.

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const log = (line: string) => process.stdout.write(`${line}\n`);

function makeCertificates(dir: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('req', '-x509', ...ec, '-days', '1', '-subj', '/CN=bench-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', ...ec, '-subj', '/CN=origin', '-keyout', 'origin.key', '-out', 'origin.csr');
  writeFileSync(join(dir, 'origin.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', 'origin.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-days', '1', '-set_serial', '1',
    '-extfile', 'origin.ext', '-out', 'origin.pem');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bff-bench-tls-'));
  const redis = await startRedis();
  const idp = await startBenchIdp();
  const stops: (() => Promise<void>)[] = [() => redis.stop(), () => idp.close()];
  try {
    makeCertificates(dir);
    const plain = await startServer(LOAD_CORE, process.execPath, [serverScript('origin')]);
    const secure = await startServer(LOAD_CORE, process.execPath, [serverScript('origin-https'), join(dir, 'origin.pem'), join(dir, 'origin.key')]);
    stops.push(() => plain.stop(), () => secure.stop());
    const gateway = await startGateway({
      idp,
      redisUrl: redis.url,
      upstream: `http://127.0.0.1:${plain.port}`,
      routes: [
        { prefix: '/api', upstream: `http://127.0.0.1:${plain.port}`, token: 'session' },
        { prefix: '/tls', upstream: `https://127.0.0.1:${secure.port}`, token: 'session', tls: { ca: join(dir, 'ca.pem') } },
      ],
    });
    stops.push(() => gateway.stop());
    const login = await loginThroughGateway(gateway.url, { username: BENCH_USER.username, password: BENCH_USER.password });
    const headers = { 'x-csrf': '1', accept: 'application/json', cookie: login.sessionCookie };
    const measure = (path: string) => wrk(`${gateway.url}${path}`, { core: LOAD_CORE, connections: 32, seconds, headers });
    await measure('/api/warm');
    await measure('/tls/warm');
    const results = { plain: [] as number[], https: [] as number[], errors: 0 };
    for (let round = 1; round <= rounds; round++) {
      const a = await measure('/api/bench');
      const b = await measure('/tls/bench');
      results.plain.push(a.requestsPerSecond);
      results.https.push(b.requestsPerSecond);
      results.errors += a.errors + b.errors;
      log(`round ${round}: plain ${a.requestsPerSecond.toFixed(0)} req/s, https ${b.requestsPerSecond.toFixed(0)} req/s`);
    }
    const ratios = results.https.map((h, i) => h / results.plain[i]!);
    log(`plain upstream: ${formatSpread(spread(results.plain))} req/s`);
    log(`https upstream: ${formatSpread(spread(results.https))} req/s`);
    log(`https / plain:  ${formatSpread(spread(ratios), 2)} (target ≥ 0.80); errors: ${results.errors}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
