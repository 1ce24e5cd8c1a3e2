import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, SERVICE_USER, startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, countStatuses, startInstances, type Instances } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// A token source with grant: jwt_bearer (RFC 7523): the gateway signs a short-lived assertion
// with its key and gets a service token for it from oidc-provider's jwt-bearer grant (which
// checks the signature with the key registered for the client, iss, aud, exp and the jti).
// One grant for a burst over two instances, as for every token source.

let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let gws: Instances;
let keyFile: string;
let wrongKeyFile: string;

async function keyPairFile(dir: string, name: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'ES256', kid: name }));
  return { file, publicJwk: { ...(await exportJWK(publicKey)), alg: 'ES256' } };
}

function source(file: string, tokenEndpoint: string) {
  return {
    tokenEndpoint,
    grant: 'jwt_bearer',
    clientId: SERVICE_CLIENT_ID,
    clientSecret: SERVICE_CLIENT_SECRET,
    assertion: { subject: SERVICE_USER.claims.sub, audience: tokenEndpoint, keyFile: file, lifetime: '2m' },
  };
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bff-jwt-bearer-'));
  const good = await keyPairFile(dir, 'svc.jwk.json');
  keyFile = good.file;
  wrongKeyFile = (await keyPairFile(dir, 'other.jwk.json')).file;
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600, assertionKeys: { [SERVICE_CLIENT_ID]: good.publicJwk } });
  upstream = await startUpstream();
  const tokenEndpoint = `${idp.issuer}/token`;
  gws = await startInstances(2, {
    idp,
    store: redis.url,
    routes: [
      { prefix: '/svc', upstream: upstream.url, token: 'svc', requireSession: false },
      { prefix: '/wrong', upstream: upstream.url, token: 'wrong', requireSession: false },
    ],
    config: { tokenSources: { svc: source(keyFile, tokenEndpoint), wrong: source(wrongKeyFile, tokenEndpoint) } },
  });
});

afterAll(async () => {
  await gws?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

async function subjectOf(bearer: string | undefined): Promise<string | number> {
  const res = await fetch(`${idp.issuer}/me`, { headers: { authorization: bearer ?? '' } });
  return res.status === 200 ? ((await res.json()) as { sub: string }).sub : res.status;
}

describe('grant: jwt_bearer token sources', () => {
  it('gets one service token for the assertion\'s subject, however many calls on two instances want it', async () => {
    idp.resetStats();
    upstream.seen.length = 0;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(`${gws.gateways[i % 2]!.url}/svc/x`, '')),
    );
    expect(countStatuses(results)).toEqual({ 200: 30 });
    expect(idp.stats.tokenRequests).toBe(1);
    const bearers = new Set(upstream.seen.map((r) => r.headers.authorization));
    expect(bearers.size).toBe(1);
    expect(await subjectOf([...bearers][0])).toBe(SERVICE_USER.claims.sub);
  });

  it('is refused by the IdP when the assertion is signed with another key: 503, nothing forwarded', async () => {
    upstream.seen.length = 0;
    const res = await call(`${gws.gateways[0]!.url}/wrong/x`, '');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'token_service_unavailable' });
    expect(upstream.seen).toHaveLength(0);
  });
});
