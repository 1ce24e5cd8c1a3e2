#!/usr/bin/env node
// One part of the demo, on its own: `node dist/demo/src/serve.js <idp|rest-api|soap|web>`.
// docker-compose.yml runs each part in its own container; `npm start` (main.ts) runs them
// all in one process instead. Settings come from the environment:
//
//   every part   HOST (default 127.0.0.1; 0.0.0.0 in a container), PORT (per part below)
//   idp          PORT 9000, DEMO_ISSUER (default http://localhost:<PORT>), DEMO_CLIENT_SECRET
//                (required), DEMO_CLIENT_ID (demo-bff), DEMO_PUBLIC_URL (the gateway's
//                origin, default http://localhost:8080; its /auth/callback is registered),
//                DEMO_BACKCHANNEL_LOGOUT_URI (optional), DEMO_ACCESS_TOKEN_TTL (seconds, 60)
//   rest-api     PORT 9101, DEMO_ISSUER (tokens are checked at its userinfo endpoint)
//   soap         PORT 9102, DEMO_ISSUER
//   web          PORT 9100, DEMO_SOAP_PATH (the gateway's SOAP route; shows the SOAP button)
import { DEMO_USER, demoGatewayClient } from './demo-realm.js';

interface Running {
  url: string;
  close(): Promise<void>;
}

// Each part loads only its own modules (the IdP's oidc-provider stays out of the others).
const PARTS = {
  idp: startIdp,
  'rest-api': async () => {
    const { startDemoRestApi } = await import('./rest-api.js');
    return startDemoRestApi({ host: host(), port: port(9101), issuer: issuer(9000) });
  },
  soap: async () => {
    const { startDemoSoapService } = await import('./soap-service.js');
    return startDemoSoapService({ host: host(), port: port(9102), issuer: issuer(9000) });
  },
  web: async () => {
    const { startDemoWeb } = await import('./web.js');
    return startDemoWeb({ host: host(), port: port(9100), ...optional('DEMO_SOAP_PATH', (soapPath) => ({ soapPath })) });
  },
} satisfies Record<string, () => Promise<Running>>;

type PartName = keyof typeof PARTS;

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function required(name: string): string {
  const value = env(name);
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

function optional<T>(name: string, use: (value: string) => T): T | Record<string, never> {
  const value = env(name);
  return value === undefined ? {} : use(value);
}

function host(): string {
  return env('HOST') ?? '127.0.0.1';
}

function port(fallback: number): number {
  const value = Number(env('PORT') ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error('PORT must be a port number');
  return value;
}

function issuer(idpPort: number): string {
  return env('DEMO_ISSUER') ?? `http://localhost:${idpPort}`;
}

async function startIdp(): Promise<Running> {
  const { startDemoIdp } = await import('./idp.js');
  const idpPort = port(9000);
  const ttl = Number(env('DEMO_ACCESS_TOKEN_TTL') ?? 60);
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error('DEMO_ACCESS_TOKEN_TTL must be a whole number of seconds');
  const idp = await startDemoIdp({
    host: host(),
    port: idpPort,
    issuer: issuer(idpPort),
    accessTokenTtl: ttl,
    users: [DEMO_USER],
    clients: [
      demoGatewayClient({
        clientSecret: required('DEMO_CLIENT_SECRET'),
        publicUrl: env('DEMO_PUBLIC_URL') ?? 'http://localhost:8080',
        ...optional('DEMO_CLIENT_ID', (clientId) => ({ clientId })),
        ...optional('DEMO_BACKCHANNEL_LOGOUT_URI', (backchannelLogoutUri) => ({ backchannelLogoutUri })),
      }),
    ],
  });
  return { url: idp.issuer, close: () => idp.close() };
}

function isPart(name: string | undefined): name is PartName {
  return name !== undefined && Object.hasOwn(PARTS, name);
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!isPart(name)) {
    process.stderr.write(`usage: serve.js <${Object.keys(PARTS).join('|')}>\n`);
    process.exit(2);
  }
  const running = await PARTS[name]();
  process.stdout.write(`demo ${name}: ready at ${running.url}\n`);
  const stop = () => {
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`demo ${process.argv[2] ?? ''} failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
