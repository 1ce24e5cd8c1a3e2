import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { startDemoIdp } from '../demo/src/idp.js';
import { DpopProofs, newDpopKey } from '../src/oidc/dpop.js';
import { loginThroughGateway } from '../test/helpers/login.js';
import { wrk } from './load/wrk.js';
import { freePort, LOAD_CORE, startRedis } from './stack.js';

// The cost per proxied call of DPoP (oidc.dpop: true: an ES256 proof signed for every upstream
// call) against the plain bearer path: two gateways in this process, the same Redis, IdP and
// upstream, wrk (pinned to the load core) at full speed on each in turn, several rounds.
// Reported: calls/s and this process's CPU time per call; the ratio is bearer cost / DPoP cost.
// Also: proofs per second of the signer alone. Run: npm run build && node dist/bench/dpop.js

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;

async function main(): Promise<void> {
  const redis = await startRedis();
  const clientSecret = 'bench-secret-bench-secret-bench-secret';
  const idp = await startDemoIdp({
    users: [{ username: 'alice', password: 'wonderland', claims: { sub: 'alice' } }],
    accessTokenTtl: 3600,
  });
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;

  const gateways: { name: string; url: string; close(): Promise<void> }[] = [];
  const redirectUris: string[] = [];
  for (const dpop of [false, true]) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    redirectUris.push(`${url}/auth/callback`);
    await idp.upsertClient({
      client_id: 'bff', client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [...redirectUris],
    });
    const config = parseConfig(stringify({
      server: { host: '127.0.0.1', port, publicUrl: url },
      store: { url: redis.url },
      session: { secrets: ['bench-session-secret-bench-session-secret'], encryptionKeys: [Buffer.alloc(32, 3).toString('base64')] },
      oidc: { issuer: idp.issuer, clientId: 'bff', clientSecret, dpop },
      routes: [{ prefix: '/api', upstream: upstreamUrl }],
    }), { env: {} });
    const app = await buildApp(config, { logStream: new Writable({ write: (_c, _e, done) => done() }), processMetrics: false });
    await app.listen({ host: '127.0.0.1', port });
    gateways.push({ name: dpop ? 'dpop' : 'bearer', url, close: () => app.close() });
  }

  const cookies = new Map<string, string>();
  for (const gw of gateways) cookies.set(gw.name, (await loginThroughGateway(gw.url)).sessionCookie);

  const results = new Map<string, { calls: number; cpuMicros: number; rps: number[] }>();
  for (let round = 0; round <= ROUNDS; round++) {
    for (const gw of gateways) {
      const cpu = process.cpuUsage();
      const t = await wrk(`${gw.url}/api/data`, {
        core: LOAD_CORE, connections: CONNECTIONS, seconds: SECONDS, headers: { cookie: cookies.get(gw.name)!, 'x-csrf': '1' },
      });
      const used = process.cpuUsage(cpu);
      if (t.errors > 0) throw new Error(`${gw.name}: ${t.errors} errors`);
      if (round === 0) continue; // warm-up
      const r = results.get(gw.name) ?? { calls: 0, cpuMicros: 0, rps: [] };
      r.calls += t.requests;
      r.cpuMicros += used.user + used.system;
      r.rps.push(t.requestsPerSecond);
      results.set(gw.name, r);
    }
  }

  const perCall = (name: string) => results.get(name)!.cpuMicros / results.get(name)!.calls;
  for (const [name, r] of results) {
    console.log(`${name.padEnd(7)} ${r.rps.map((x) => x.toFixed(0)).join(' / ')} calls/s, ${perCall(name).toFixed(1)} µs CPU per call`);
  }
  console.log(`DPoP vs bearer: ${(perCall('bearer') / perCall('dpop')).toFixed(2)}x (CPU per call), ` +
    `${(median(results.get('dpop')!.rps) / median(results.get('bearer')!.rps)).toFixed(2)}x (median calls/s)`);

  const proofs = new DpopProofs();
  const key = newDpopKey();
  const n = 20_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) proofs.proof(key, { htm: 'GET', htu: `${upstreamUrl}/api/data`, accessToken: 'x'.repeat(43) });
  const micros = Number(process.hrtime.bigint() - started) / 1e3 / n;
  console.log(`proof signing alone: ${micros.toFixed(1)} µs per proof (${(1e6 / micros).toFixed(0)} per second)`);

  for (const gw of gateways) await gw.close();
  upstream.close();
  await idp.close();
  await redis.stop();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
