import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unsign } from '@fastify/cookie';
import pino from 'pino';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/types.js';
import { startDemoIdp, type DemoIdp } from '../demo/src/idp.js';
import { SessionCipher } from '../src/session/cipher.js';
import { Sessions } from '../src/session/sessions.js';
import { createStore } from '../src/store/create.js';
import type { SessionStore } from '../src/store/store.js';
import { freePort, PROXY_CORE } from './stack.js';
import { startServer, type Started } from './processes.js';

// L3: the gateway as operators run it (the built CLI, its own process, pinned to the proxy
// core), in front of the demo identity provider, which runs inside the bench process.

const CLI = resolve(import.meta.dirname, '../src/cli.js');
const CLIENT_ID = 'bench-bff';
const CLIENT_SECRET = 'bench-bff-secret-0123456789abcdef';
const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';
const SESSION_KEY = Buffer.alloc(32, 9).toString('base64');

export const BENCH_USER = { username: 'bench', password: 'bench-password', claims: { sub: 'bench', name: 'Bench User', email: 'bench@example.test' } };

export interface BenchIdp extends DemoIdp {
  /** adds a gateway's callback to the client's redirect URIs */
  allow(gatewayUrl: string): Promise<void>;
}

export async function startBenchIdp(opts: { accessTokenTtl?: number } = {}): Promise<BenchIdp> {
  const idp = await startDemoIdp({ users: [BENCH_USER], accessTokenTtl: opts.accessTokenTtl ?? 3600 });
  const redirects: string[] = [];
  const allow = async (gatewayUrl: string) => {
    redirects.push(`${gatewayUrl}/auth/callback`);
    await idp.upsertClient({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [...redirects],
    });
  };
  return Object.assign(idp, { allow });
}

export interface GatewayOptions {
  idp: BenchIdp;
  redisUrl: string;
  upstream: string;
  core?: number;
  /** the routes, instead of /api → upstream (the TLS rung has two) */
  routes?: Record<string, unknown>[];
  /** more oidc settings (refreshBefore, ...) */
  oidc?: Record<string, unknown>;
  /** the telemetry section (traces), when the rung measures it */
  telemetry?: Record<string, unknown>;
  /** more environment for the gateway process (e.g. OTEL_BSP_* for a traces experiment) */
  env?: NodeJS.ProcessEnv;
}

/** The YAML config every bench gateway runs with (they differ only in port). */
function configObject(opts: GatewayOptions, port: number): Record<string, unknown> {
  const url = `http://127.0.0.1:${port}`;
  return {
    server: { host: '127.0.0.1', port, publicUrl: url },
    store: { url: opts.redisUrl, keyPrefix: 'bench:' },
    session: { secrets: [SESSION_SECRET], encryptionKeys: [SESSION_KEY] },
    oidc: { issuer: opts.idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshBefore: '60s', ...opts.oidc },
    routes: opts.routes ?? [{ prefix: '/api', upstream: opts.upstream, token: 'session' }],
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  };
}

export interface BenchGateway extends Started {
  url: string;
}

export async function startGateway(opts: GatewayOptions): Promise<BenchGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await opts.idp.allow(url);
  const dir = mkdtempSync(join(tmpdir(), 'bff-bench-gw-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(configObject(opts, port)));
  const ready = async () => {
    for (let i = 0; i < 200; i += 1) {
      try {
        if ((await fetch(`${url}/readyz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the gateway did not get ready');
  };
  // BENCH_CPU_PROF=DIR: the gateway writes a V8 CPU profile there when it stops;
  // BENCH_NODE_ARGS: more node flags for the gateway (e.g. --trace-gc)
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const args = [...profile, ...nodeArgs, CLI, '--config', file];
  const server = await startServer(opts.core ?? PROXY_CORE, process.execPath, args, { port, ready, env: opts.env });
  return {
    ...server,
    url,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The bench's own view of the gateways' store: the same config, so the same keys. */
export interface StoreView {
  config: GatewayConfig;
  store: SessionStore;
  sessions: Sessions;
  close(): Promise<void>;
}

export function openStoreView(opts: GatewayOptions): StoreView {
  const config = parseConfig(stringify(configObject(opts, 1)), { env: {} });
  const store = createStore(config.store, pino({ level: 'silent' }));
  const sessions = new Sessions(store, new SessionCipher(config.session.encryptionKeys), config.session);
  return { config, store, sessions, close: () => store.close() };
}

/** The session id inside a "name=value" session cookie (signed by the bench gateways). */
export function sessionIdOf(sessionCookie: string): string {
  const value = decodeURIComponent(sessionCookie.slice(sessionCookie.indexOf('=') + 1));
  const result = unsign(value, SESSION_SECRET);
  if (!result.valid || !result.value) throw new Error('not a session cookie of the bench gateways');
  return result.value;
}
