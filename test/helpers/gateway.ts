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
  /** the management listener (server.management in the config), listening on a port of its own */
  managementUrl?: string;
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

/** Adds a gateway's callback to the IdP's "bff" client (which keeps every earlier one). */
export async function registerWithIdp(idp: TestIdp, gatewayUrl: string): Promise<void> {
  const uris = [...(redirectUris.get(idp) ?? []), `${gatewayUrl}/auth/callback`];
  redirectUris.set(idp, uris);
  await idp.configureBffClient({ redirectUris: uris, postLogoutRedirectUris: [`${gatewayUrl}/`] });
}

/** The YAML config a test gateway runs with, as an object. */
export function gatewayConfigObject(opts: TestGatewayOptions, port: number): Record<string, unknown> {
  const url = `http://127.0.0.1:${port}`;
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
  return raw;
}

export async function startGateway(opts: TestGatewayOptions): Promise<TestGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await registerWithIdp(opts.idp, url);
  const config = parseConfig(stringify(gatewayConfigObject(opts, port)), { env: {} });

  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await buildApp(config, { logStream, processMetrics: false, ...opts.app });
  await app.listen({ host: '127.0.0.1', port });
  const gateway: TestGateway = { url, app, config, logs, close: () => app.close() };
  if (app.management) {
    await app.management.listen({ host: '127.0.0.1', port: config.server.management?.port ?? 0 });
    const address = app.management.server.address();
    if (typeof address === 'object' && address) gateway.managementUrl = `http://127.0.0.1:${address.port}`;
  }
  return gateway;
}
