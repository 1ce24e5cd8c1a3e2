import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load.js';
import { DEMO_SAML_AUDIENCE, DEMO_USER, demoGatewayClient } from './demo-realm.js';
import { mintSamlAssertion, newSamlKeys } from './saml-assertion.js';
import { startDemoIdp } from './idp.js';
import { startDemoRestApi } from './rest-api.js';
import { startDemoSoapService } from './soap-service.js';
import { startDemoWeb } from './web.js';

// `npm start`: the embedded default. A demo identity provider (oidc-provider) on :9000, the
// demo REST API, SOAP service and page on free ports, and the gateway on
// http://localhost:8080 in front of them, with the memory store unless REDIS_URL is set.

const GATEWAY_URL = `http://localhost:${process.env.PORT ?? 8080}`;
const IDP_PORT = Number(process.env.DEMO_IDP_PORT ?? 9000);

async function main(): Promise<void> {
  const clientSecret = randomBytes(24).toString('base64url');
  // the IdP's token exchange mints signed SAML assertions for the /soap-saml route
  const samlKeys = newSamlKeys();
  const idp = await startDemoIdp({
    exchangeAudiences: [DEMO_SAML_AUDIENCE],
    saml: (subject, audience, lifetime) => mintSamlAssertion(samlKeys, `http://localhost:${IDP_PORT}`, subject, audience, lifetime),
    host: 'localhost',
    port: IDP_PORT,
    issuer: `http://localhost:${IDP_PORT}`,
    accessTokenTtl: 60,
    users: [DEMO_USER],
    clients: [demoGatewayClient({ clientSecret, publicUrl: GATEWAY_URL })],
  });
  const restApi = await startDemoRestApi({ issuer: idp.issuer });
  const soapApi = await startDemoSoapService({ issuer: idp.issuer, saml: { publicKeyPem: samlKeys.publicKeyPem, audience: DEMO_SAML_AUDIENCE } });
  // the gateway's SOAP route (config/demo.yaml) writes the session's token into the envelope
  const web = await startDemoWeb({ soapPath: '/soap' });

  Object.assign(process.env, {
    DEMO_ISSUER: idp.issuer,
    DEMO_CLIENT_SECRET: clientSecret,
    DEMO_SESSION_SECRET: randomBytes(32).toString('base64url'),
    DEMO_SESSION_KEY: randomBytes(32).toString('base64'),
    DEMO_REST_API: restApi.url,
    DEMO_SOAP_API: soapApi.url,
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
    await Promise.all([restApi.close(), soapApi.close(), web.close(), idp.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
