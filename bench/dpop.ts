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

// The cost per proxied call of DPoP (oidc.dpop: true: a proof signed for every upstream call)
// against the plain bearer path: three gateways in this process on the same Redis, IdP and
// upstream: bearer, DPoP as configured by default (ES256 keys: the ECDSA signature per
// proof the target is about), and DPoP with Ed25519 keys (oidc.dpopAlgs:
// [Ed25519, ES256], as oidc-provider accepts them); wrk (pinned to the load core) at
// full speed on each in turn, several rounds. Reported: calls/s and this process's CPU time
// per call (the upstream and the IdP run in it too); the ratios are bearer cost / DPoP cost,
// per round, and their median.
// Also: the signer alone per alg. Run: npm run build && node dist/bench/dpop.js

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
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
  const variants = [
    { name: 'bearer', oidc: {} },
    { name: 'dpop', oidc: { dpop: true } },
    { name: 'dpop-ed25519', oidc: { dpop: true, dpopAlgs: ['Ed25519', 'ES256'] } },
  ];
  for (const variant of variants) {
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
      oidc: { issuer: idp.issuer, clientId: 'bff', clientSecret, ...variant.oidc },
      routes: [{ prefix: '/api', upstream: upstreamUrl }],
    }), { env: {} });
    const app = await buildApp(config, { logStream: new Writable({ write: (_c, _e, done) => done() }), processMetrics: false });
    await app.listen({ host: '127.0.0.1', port });
    gateways.push({ name: variant.name, url, close: () => app.close() });
  }

  const cookies = new Map<string, string>();
  for (const gw of gateways) cookies.set(gw.name, (await loginThroughGateway(gw.url)).sessionCookie);

  // per gateway and round: calls/s and CPU per call. The order turns every round (a burst of
  // other work on this shared machine then lands on each gateway in turn), and the ratios are
  // taken per round, between runs seconds apart, then their median is reported.
  const results = new Map<string, { rps: number[]; perCall: number[] }>();
  for (let round = 0; round <= ROUNDS; round++) {
    const turn = round % gateways.length;
    for (const gw of [...gateways.slice(turn), ...gateways.slice(0, turn)]) {
      const cpu = process.cpuUsage();
      const t = await wrk(`${gw.url}/api/data`, {
        core: LOAD_CORE, connections: CONNECTIONS, seconds: SECONDS, headers: { cookie: cookies.get(gw.name)!, 'x-csrf': '1' },
      });
      const used = process.cpuUsage(cpu);
      if (t.errors > 0) throw new Error(`${gw.name}: ${t.errors} errors`);
      if (round === 0) continue; // warm-up
      const r = results.get(gw.name) ?? { rps: [], perCall: [] };
      r.perCall.push((used.user + used.system) / t.requests);
      r.rps.push(t.requestsPerSecond);
      results.set(gw.name, r);
    }
  }

  const of = (name: string) => results.get(name)!;
  for (const [name, r] of results) {
    console.log(`${name.padEnd(10)} median ${median(r.rps).toFixed(0)} calls/s, ${median(r.perCall).toFixed(1)} µs CPU per call ` +
      `(rounds: ${r.perCall.map((x) => x.toFixed(0)).join(' / ')} µs)`);
  }
  // the first line is the target's (bench/side-parts.ts reads it): DPoP as configured by default
  for (const [name, label] of [['dpop', 'DPoP vs bearer'], ['dpop-ed25519', 'DPoP with Ed25519 vs bearer']] as const) {
    const cpuRatios = of('bearer').perCall.map((bearer, i) => bearer / of(name).perCall[i]!);
    const rpsRatios = of(name).rps.map((rps, i) => rps / of('bearer').rps[i]!);
    console.log(`${label}: ${median(cpuRatios).toFixed(2)}x (CPU per call, median of the rounds' ratios; ` +
      `rounds ${cpuRatios.map((x) => x.toFixed(2)).join(' ')}), ${median(rpsRatios).toFixed(2)}x (calls/s)`);
  }

  const proofs = new DpopProofs();
  for (const alg of ['Ed25519', 'ES256'] as const) {
    const key = newDpopKey(alg);
    const n = 20_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) proofs.proof(key, { htm: 'GET', htu: `${upstreamUrl}/api/data`, accessToken: 'x'.repeat(43) });
    const micros = Number(process.hrtime.bigint() - started) / 1e3 / n;
    console.log(`${alg} proof signing alone: ${micros.toFixed(1)} µs per proof (${(1e6 / micros).toFixed(0)} per second)`);
  }

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
