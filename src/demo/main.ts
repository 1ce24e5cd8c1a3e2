import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../app.js';
import { loadConfigFile } from '../config/load.js';
import { startDemoIdp } from './idp.js';
import { startDemoRestApi } from './rest-api.js';
import { startDemoWeb } from './web.js';

// `npm start`: the embedded default. A demo identity provider (oidc-provider) on :9000, the
// demo REST API and page on free ports, and the gateway on http://localhost:8080 in front of
// them, with the memory store unless REDIS_URL is set.

const DEMO_USER = { username: 'alice', password: 'wonderland' };
const GATEWAY_URL = `http://localhost:${process.env.PORT ?? 8080}`;
const IDP_PORT = Number(process.env.DEMO_IDP_PORT ?? 9000);

async function main(): Promise<void> {
  const clientSecret = randomBytes(24).toString('base64url');
  const idp = await startDemoIdp({
    host: 'localhost',
    port: IDP_PORT,
    issuer: `http://localhost:${IDP_PORT}`,
    accessTokenTtl: 60,
    users: [{ ...DEMO_USER, claims: { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.test' } }],
    clients: [
      {
        client_id: 'demo-bff',
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${GATEWAY_URL}/auth/callback`],
        post_logout_redirect_uris: [`${GATEWAY_URL}/`],
      },
    ],
  });
  const restApi = await startDemoRestApi({ issuer: idp.issuer });
  const web = await startDemoWeb();

  Object.assign(process.env, {
    DEMO_ISSUER: idp.issuer,
    DEMO_CLIENT_SECRET: clientSecret,
    DEMO_SESSION_SECRET: randomBytes(32).toString('base64url'),
    DEMO_SESSION_KEY: randomBytes(32).toString('base64'),
    DEMO_REST_API: restApi.url,
    DEMO_WEB: web.url,
  });
  const config = loadConfigFile(fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url)));
  const app = await buildApp(config, { logLevel: process.env.LOG_LEVEL ?? 'warn' });
  await app.listen({ host: config.server.host, port: config.server.port });

  process.stdout.write(
    [
      '',
      `  bff-gateway demo:  ${GATEWAY_URL}`,
      `  identity provider: ${idp.issuer}`,
      `  demo login:        ${DEMO_USER.username} / ${DEMO_USER.password}`,
      `  session store:     ${process.env.REDIS_URL ? 'Redis (REDIS_URL)' : 'memory (set REDIS_URL for Redis)'}`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  const stop = async () => {
    await app.close();
    await Promise.all([restApi.close(), web.close(), idp.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
