import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { buildApp, type AppOptions } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { freePort } from './free-port.js';
import { BFF_CLIENT_SECRET, type TestIdp } from './idp.js';

// A gateway built from a YAML config (through the real loader) against a test IdP, listening
// on 127.0.0.1. Every gateway started for one IdP is registered with it as a redirect URI.

export const SESSION_SECRET = 'test-session-secret-test-session-secret';
export const SESSION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestGateway {
  url: string;
  app: FastifyInstance;
  config: GatewayConfig;
  /** every log line the gateway wrote */
  logs: string[];
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  idp: TestIdp;
  /** a redis:// URL, or "memory" */
  store: string;
  routes?: Record<string, unknown>[];
  /** deep-merged over the generated config (before validation) */
  config?: Record<string, Record<string, unknown>>;
  app?: AppOptions;
}

const redirectUris = new WeakMap<TestIdp, string[]>();

export async function startGateway(opts: TestGatewayOptions): Promise<TestGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const uris = [...(redirectUris.get(opts.idp) ?? []), `${url}/auth/callback`];
  redirectUris.set(opts.idp, uris);
  await opts.idp.configureBffClient({ redirectUris: uris, postLogoutRedirectUris: [`${url}/`] });

  const raw: Record<string, unknown> = {
    server: { host: '127.0.0.1', port, publicUrl: url },
    store: { url: opts.store, keyPrefix: 'bff:' },
    session: { secrets: [SESSION_SECRET], encryptionKeys: [SESSION_KEY] },
    oidc: { issuer: opts.idp.issuer, clientId: 'bff', clientSecret: BFF_CLIENT_SECRET, refreshBefore: '60s' },
    routes: opts.routes ?? [],
  };
  for (const [section, values] of Object.entries(opts.config ?? {})) {
    raw[section] = { ...(raw[section] as Record<string, unknown> | undefined), ...values };
  }
  const config = parseConfig(stringify(raw), { env: {} });

  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await buildApp(config, { logStream, processMetrics: false, ...opts.app });
  await app.listen({ host: '127.0.0.1', port });
  return { url, app, config, logs, close: () => app.close() };
}
