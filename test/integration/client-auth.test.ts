import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientMetadata } from '../../demo/src/idp.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Each client authentication method through a whole session life: code exchange, refresh,
// revocation at logout (all three authenticate the client at the IdP).

let idp: TestIdp;
let upstream: TestUpstream;
const gateways: TestGateway[] = [];
const keyDir = mkdtempSync(join(tmpdir(), 'bff-keys-'));

beforeAll(async () => {
  idp = await startTestIdp({ accessTokenTtl: 30 });
  upstream = await startUpstream();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await upstream?.close();
  await idp?.close();
});

async function privateKeyClient(): Promise<{ file: string; jwks: ClientMetadata['jwks'] }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const file = join(keyDir, 'client.jwk.json');
  writeFileSync(file, JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'RS256', kid: 'k1' }));
  return { file, jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'k1', use: 'sig' }] } };
}

const SECRET = 'another-client-secret-another-client-secret';

describe.each(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const)('%s', (method) => {
  it('logs in, refreshes and revokes at logout', async () => {
    const clientId = `client-${method}`;
    const metadata: ClientMetadata = {
      client_id: clientId,
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
    const oidc: Record<string, unknown> = { clientId, tokenEndpointAuthMethod: method, clientSecret: undefined };
    if (method.startsWith('client_secret')) {
      metadata.client_secret = SECRET;
      oidc.clientSecret = SECRET;
    }
    if (method === 'private_key_jwt') {
      const key = await privateKeyClient();
      metadata.jwks = key.jwks;
      metadata.token_endpoint_auth_signing_alg = 'RS256';
      oidc.privateKeyFile = key.file;
    }
    const gw = await startGateway({ idp, store: 'memory', config: { oidc }, routes: [{ prefix: '/api', upstream: upstream.url }] });
    gateways.push(gw);
    await idp.upsertClient({ ...metadata, redirect_uris: [`${gw.url}/auth/callback`], post_logout_redirect_uris: [`${gw.url}/`] });

    const stats = { ...idp.stats };
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const headers = { 'x-csrf': '1', cookie: sessionCookie };
    expect((await fetch(`${gw.url}/api/x`, { headers })).status).toBe(200);
    expect(idp.stats.codeExchanges).toBe(stats.codeExchanges + 1);
    expect(idp.stats.refreshes).toBe(stats.refreshes + 1);
    expect((await fetch(`${gw.url}/auth/logout`, { method: 'POST', headers })).status).toBe(200);
    expect(idp.stats.revocations).toBe(stats.revocations + 1);
    expect(idp.stats.grantRevocations).toBe(stats.grantRevocations + 1); // the revoked grant
  });
});
