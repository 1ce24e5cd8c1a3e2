import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SessionCipher } from '../../src/session/cipher.js';
import { packSession, unpackSession } from '../../src/store/stored-session-bytes.js';
import { tokenSourceStoreId, type HeldToken } from '../../src/tokens/service-token-store.js';
import { SESSION_KEY, startGateway, type TestGateway } from '../helpers/gateway.js';
import { SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, SERVICE_USER, startTestIdp, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Routes with `token: <source>` send a token the gateway holds itself, got from the test IdP
// with the password grant (Secret Server style) or client_credentials. Every source has
// refreshBefore 60s: while the IdP issues 30 s access tokens every call renews the token;
// with 1 h tokens a held token is reused. Each test uses its own source, so counts start clean.

const REFUSED_USER = { username: 'svc-refused', password: 'svc-refused-password-Kp2', claims: { sub: 'svc-refused' } };
const WRONG_PASSWORD = 'not-the-password-Vx81';

function sources(tokenEndpoint: string): Record<string, Record<string, unknown>> {
  const client = { tokenEndpoint, clientId: SERVICE_CLIENT_ID, clientSecret: SERVICE_CLIENT_SECRET, refreshBefore: '60s' };
  const password = (extra: Record<string, unknown> = {}) => ({
    ...client,
    grant: 'password',
    username: SERVICE_USER.username,
    password: SERVICE_USER.password,
    scope: 'openid',
    maxRefreshes: 10,
    ...extra,
  });
  return {
    reused: password(),
    rotating: password(),
    limited: password({ maxRefreshes: 2 }),
    refused: password({ username: REFUSED_USER.username, password: REFUSED_USER.password }),
    machine: { ...client, grant: 'client_credentials' },
    guarded: password(),
    retried: password(),
    outage: password(),
    misconfigured: password({ password: WRONG_PASSWORD }),
    resealed: password(),
  };
}
const ANONYMOUS = ['reused', 'rotating', 'limited', 'refused', 'machine', 'retried', 'outage', 'misconfigured', 'resealed'];

let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ users: [REFUSED_USER] });
  upstream = await startUpstream();
  gw = await startGateway({
    idp,
    store: redis.url,
    routes: [
      ...ANONYMOUS.map((name) => ({ prefix: `/${name}`, upstream: upstream.url, token: name, requireSession: false })),
      { prefix: '/guarded', upstream: upstream.url, token: 'guarded' },
    ],
    config: { tokenSources: sources(`${idp.issuer}/token`) },
    app: { logLevel: 'debug' },
  });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

beforeEach(() => {
  idp.faults.setTokenEndpointFailure(null);
  upstream.respond(undefined);
  idp.resetStats();
});

const call = (name: string, headers: Record<string, string> = {}) => fetch(`${gw.url}/${name}/data`, { headers });
const lastBearer = () => upstream.seen.at(-1)?.headers.authorization;

/** Calls a route, expects 200, returns the Authorization header the upstream received. */
async function bearerOf(name: string, headers: Record<string, string> = {}): Promise<string | undefined> {
  const res = await call(name, headers);
  expect(res.status).toBe(200);
  await res.body?.cancel();
  return lastBearer();
}

/** Whose token it is, by the IdP's userinfo endpoint (or the status when it refuses it). */
async function subjectOf(bearer: string | undefined): Promise<string | number> {
  const res = await fetch(`${idp.issuer}/me`, { headers: { authorization: bearer ?? '' } });
  if (res.status !== 200) return res.status;
  return ((await res.json()) as { sub: string }).sub;
}

describe('token sources: password grant', () => {
  it('gets a token of the service account with the password grant and reuses it while fresh', async () => {
    idp.setAccessTokenTtl(3600);
    const first = await bearerOf('reused');
    expect(first).toMatch(/^Bearer \S+$/);
    expect(await subjectOf(first)).toBe(SERVICE_USER.claims.sub);
    expect(await bearerOf('reused')).toBe(first);
    expect(idp.stats.passwordGrants).toBe(1);
    expect(idp.stats.refreshes).toBe(0);
  });

  it('replaces a held entry it cannot open (sealed with a key since retired), and only that', async () => {
    idp.setAccessTokenTtl(3600);
    const storeId = tokenSourceStoreId('resealed');
    const key = `bff:s:{${storeId}}`;
    const retired = new SessionCipher([Buffer.alloc(32, 9)]);
    const client = redis.client();
    const old: HeldToken = { kind: 'token-source', accessToken: 'under-a-retired-key', refreshes: 0 };
    const sealedOld = retired.seal(Buffer.from(JSON.stringify(old)), storeId);
    await client.set(key, packSession({ version: 5, data: sealedOld, absoluteExpiresAt: Date.now() + 3_600_000 }), 'PX', 3_600_000);

    const bearer = await bearerOf('resealed');
    expect(await subjectOf(bearer)).toBe(SERVICE_USER.claims.sub);
    expect(idp.stats.passwordGrants).toBe(1);
    const stored = unpackSession((await client.getBuffer(key))!)!;
    expect(stored.version).toBe(6); // compare-and-set over the unreadable entry
    const cipher = new SessionCipher([Buffer.from(SESSION_KEY, 'base64')]);
    const held = JSON.parse(cipher.open(stored.data, storeId)!.toString('utf8')) as HeldToken;
    expect(`Bearer ${held.accessToken}`).toBe(bearer);
    expect(await bearerOf('resealed')).toBe(bearer);
    expect(idp.stats.passwordGrants).toBe(1);
  });

  it('renews with the rotated refresh token each time, never presenting a used one', async () => {
    idp.setAccessTokenTtl(30);
    const bearers = [];
    for (let i = 0; i < 4; i++) bearers.push(await bearerOf('rotating'));
    expect(idp.stats.passwordGrants).toBe(1);
    expect(idp.stats.refreshes).toBe(3);
    expect(idp.stats.refreshFailures).toBe(0);
    expect(idp.stats.grantRevocations).toBe(0);
    expect(new Set(bearers).size).toBe(4);
    expect(await subjectOf(bearers.at(-1))).toBe(SERVICE_USER.claims.sub);
  });

  it('authenticates again with the password after maxRefreshes refreshes', async () => {
    idp.setAccessTokenTtl(30);
    for (let i = 0; i < 4; i++) await bearerOf('limited');
    // grant, refresh, refresh, grant (maxRefreshes: 2)
    expect(idp.stats.passwordGrants).toBe(2);
    expect(idp.stats.refreshes).toBe(2);
    await bearerOf('limited');
    expect(idp.stats.refreshes).toBe(3);
    expect(idp.stats.refreshFailures).toBe(0);
    expect(idp.stats.grantRevocations).toBe(0);
  });

  it('authenticates again when the refresh is refused (the grant was revoked at the IdP)', async () => {
    idp.setAccessTokenTtl(30);
    const before = await bearerOf('refused');
    expect(idp.revokeGrantsOf(REFUSED_USER.claims.sub)).toBe(1);
    const after = await bearerOf('refused');
    expect(idp.stats.refreshFailuresByError).toEqual({ invalid_grant: 1 });
    expect(idp.stats.passwordGrants).toBe(2);
    expect(after).not.toBe(before);
    expect(await subjectOf(before)).toBe(401);
    expect(await subjectOf(after)).toBe(REFUSED_USER.claims.sub);
  });
});

describe('token sources: client_credentials', () => {
  it('gets a new token before the held one expires, and reuses a fresh one', async () => {
    idp.setAccessTokenTtl(30);
    const first = await bearerOf('machine');
    const second = await bearerOf('machine'); // the first still had 30 s: renewed all the same
    expect(second).not.toBe(first);
    expect(idp.stats.clientCredentials).toBe(2);
    idp.setAccessTokenTtl(3600);
    const third = await bearerOf('machine');
    expect(await bearerOf('machine')).toBe(third);
    expect(idp.stats.clientCredentials).toBe(3);
    expect(idp.stats.refreshes).toBe(0);
  });
});

describe('token sources on routes', () => {
  it('with requireSession (the default) a caller must still be logged in', async () => {
    idp.setAccessTokenTtl(3600);
    const anonymous = await call('guarded', { 'x-csrf': '1' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'unauthenticated' });
    expect(idp.stats.passwordGrants).toBe(0);

    const { sessionCookie } = await loginThroughGateway(gw.url);
    const bearer = await bearerOf('guarded', { 'x-csrf': '1', cookie: sessionCookie });
    // the service account's token, not the user's
    expect(await subjectOf(bearer)).toBe(SERVICE_USER.claims.sub);
    expect(idp.stats.passwordGrants).toBe(1);
  });

  it('without requireSession works anonymously (no cookie, no CSRF header)', async () => {
    const res = await call('rotating');
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)?.headers.cookie).toBeUndefined();
  });

  it('an upstream that refuses the token (401 invalid_token) gets one renewed token and a replay', async () => {
    idp.setAccessTokenTtl(3600);
    const refusedOnce = await bearerOf('retried');
    upstream.respond((req, res) => {
      if (req.headers.authorization === refusedOnce) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
    const res = await call('retried');
    expect(res.status).toBe(200);
    expect(lastBearer()).not.toBe(refusedOnce);
    expect(idp.stats.refreshes).toBe(1);
  });

  it('answers 503 token_service_unavailable with Retry-After while the token endpoint fails, then recovers', async () => {
    idp.setAccessTokenTtl(3600);
    idp.faults.setTokenEndpointFailure(503);
    const failed = await call('outage');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).not.toBeNull();
    expect(await failed.json()).toEqual({ error: 'token_service_unavailable' });

    idp.faults.setTokenEndpointFailure(null);
    await idp.stopListening();
    try {
      const unreachable = await call('outage');
      expect(unreachable.status).toBe(503);
      await unreachable.body?.cancel();
    } finally {
      await idp.resumeListening();
    }
    expect(await subjectOf(await bearerOf('outage'))).toBe(SERVICE_USER.claims.sub);
  });

  it('answers 503 when the token endpoint refuses the credentials', async () => {
    const res = await call('misconfigured');
    expect(res.status).toBe(503);
    await res.body?.cancel();
    expect(idp.stats.passwordGrantFailures).toBe(1);
  });
});

describe('token sources at rest and in logs', () => {
  it('holds the tokens encrypted in Redis and never writes a token or a password in plain text', async () => {
    const cipher = new SessionCipher([Buffer.from(SESSION_KEY, 'base64')]);
    const client = redis.client();
    const held: HeldToken[] = [];
    for (const name of ['reused', 'rotating', 'limited', 'refused', 'machine', 'guarded', 'retried', 'outage']) {
      const storeId = tokenSourceStoreId(name);
      const [key, ...others] = await client.keys(`*${storeId}*`);
      expect(others, name).toEqual([]);
      const stored = key === undefined ? null : await client.getBuffer(key);
      const sealed = stored && unpackSession(stored)?.data;
      expect(sealed, name).not.toBeNull();
      const plain = cipher.open(sealed!, storeId);
      expect(plain, name).not.toBeNull();
      held.push(JSON.parse(plain!.toString('utf8')) as HeldToken);
    }
    const secrets = [
      ...held.flatMap((h) => [h.accessToken, h.refreshToken ?? '']).filter(Boolean),
      ...upstream.seen.map((s) => s.headers.authorization?.replace(/^Bearer /, '') ?? '').filter(Boolean),
      SERVICE_USER.password,
      REFUSED_USER.password,
      WRONG_PASSWORD,
      SERVICE_CLIENT_SECRET,
    ];
    expect(held.filter((h) => h.refreshToken !== undefined).length).toBeGreaterThan(0);

    const dump: Buffer[] = [];
    for (const key of await client.keys('*')) {
      dump.push(Buffer.from(key));
      const type = await client.type(key);
      if (type === 'hash') dump.push(...Object.values(await client.hgetallBuffer(key)));
      else if (type === 'string') dump.push((await client.getBuffer(key)) ?? Buffer.alloc(0));
      else if (type === 'set') dump.push(...(await client.smembersBuffer(key)));
      else if (type === 'zset') dump.push(...(await client.zrangeBuffer(key, 0, -1)));
      else if (type === 'list') dump.push(...(await client.lrangeBuffer(key, 0, -1)));
      else throw new Error(`unexpected ${type} key in Redis`);
    }
    const redisBytes = Buffer.concat(dump);
    const logs = gw.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(redisBytes.includes(secret), 'a secret in Redis').toBe(false);
      expect(logs.includes(secret), 'a secret in the logs').toBe(false);
    }
  });
});
