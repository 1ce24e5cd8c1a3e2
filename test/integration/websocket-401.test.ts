import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { closeOf, nextMessage, openSocket } from '../helpers/ws-client.js';
import { startWsUpstream, type Refusal, type WsUpstream } from '../helpers/ws-upstream.js';

// Rule 8 of a proxied call on the WebSocket handshake: an upstream that answers the
// upgrade 401 with `WWW-Authenticate: Bearer error="invalid_token"` gets one forced refresh
// (at the IdP) and one more handshake with the new token; a 401 that remains, or one the
// route does not retry, reaches the client as the upstream said it (not a 502).

const APP_ORIGIN = 'http://app.test';
const INVALID_TOKEN = 'Bearer realm="live", error="invalid_token", error_description="revoked"';
const REFUSED: Refusal = { status: 401, headers: { 'WWW-Authenticate': INVALID_TOKEN, 'Content-Type': 'application/json' }, body: '{"error":"invalid_token"}' };

let redis: TestRedis;
let idp: TestIdp;
let upstream: WsUpstream;
let gw: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startWsUpstream();
  gw = await startGateway({
    idp,
    store: redis.url,
    routes: [
      { prefix: '/live', upstream: upstream.url, websocket: true },
      { prefix: '/strict', upstream: upstream.url, websocket: true, retryOn401: false },
    ],
    config: { server: { allowedOrigins: [APP_ORIGIN] } },
  });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

beforeEach(() => {
  upstream.refuse(undefined);
  upstream.refused.length = 0;
  upstream.handshakes.length = 0;
  idp.faults.setTokenEndpointFailure(null);
  idp.resetStats();
});

/** A fresh session (its login is not counted in the IdP's stats). */
async function session(): Promise<string> {
  const { sessionCookie } = await loginThroughGateway(gw.url);
  idp.resetStats();
  return sessionCookie;
}

const open = (path: string, cookie: string) => openSocket(`${gw.url}${path}`, { cookie, origin: APP_ORIGIN });

describe('an upstream 401 on the WebSocket handshake', () => {
  it('invalid_token: one refresh at the IdP, a second handshake with the new token, and the socket works', async () => {
    const cookie = await session();
    let refusals = 0;
    upstream.refuse(() => (refusals++ === 0 ? REFUSED : undefined));
    const { socket } = await open('/live/chat', cookie);
    expect(socket).toBeDefined();
    expect(idp.stats.refreshes).toBe(1);
    const refusedBearer = upstream.refused[0]!.headers.authorization;
    const acceptedBearer = upstream.handshakes[0]!.headers.authorization;
    expect(upstream.refused).toHaveLength(1);
    expect(refusedBearer).toMatch(/^Bearer \S+$/);
    expect(acceptedBearer).toMatch(/^Bearer \S+$/);
    expect(acceptedBearer).not.toBe(refusedBearer);
    const echo = nextMessage(socket!);
    socket!.send('after the refresh');
    expect((await echo).data.toString()).toBe('after the refresh');
    socket!.close();
    await closeOf(socket!);

    // the new token was kept: the next upgrade sends it without refreshing again
    const next = await open('/live/chat', cookie);
    expect(next.socket).toBeDefined();
    expect(upstream.handshakes[1]!.headers.authorization).toBe(acceptedBearer);
    expect(idp.stats.refreshes).toBe(1);
    next.socket!.close();
    await closeOf(next.socket!);
  });

  it('an upstream that keeps answering 401: the client gets that 401 (challenge and body, not the gateway\'s cookie), after exactly one refresh', async () => {
    const cookie = await session();
    const cookieName = cookie.slice(0, cookie.indexOf('='));
    upstream.refuse(() => ({ ...REFUSED, headers: { ...REFUSED.headers, 'Set-Cookie': `${cookieName}=planted; Path=/`, 'X-Upstream': 'yes' } }));
    const res = await open('/live/chat', cookie);
    expect(res.status).toBe(401);
    expect(res.socket).toBeUndefined();
    if (res.socket) return;
    expect(res.headers['www-authenticate']).toBe(INVALID_TOKEN);
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(JSON.parse(res.body)).toEqual({ error: 'invalid_token' });
    expect(upstream.refused).toHaveLength(2);
    expect(upstream.refused[1]!.headers.authorization).not.toBe(upstream.refused[0]!.headers.authorization);
    expect(upstream.handshakes).toHaveLength(0);
    expect(idp.stats.refreshes).toBe(1);
    // the session itself is fine
    expect((await call(`${gw.url}/auth/user`, cookie)).status).toBe(200);
  });

  it('retryOn401: false, or a 401 without the invalid_token challenge: passed on, no refresh, one handshake', async () => {
    const cookie = await session();
    upstream.refuse(() => REFUSED);
    const strict = await open('/strict/chat', cookie);
    expect(strict.status).toBe(401);
    if (!strict.socket) expect(strict.headers['www-authenticate']).toBe(INVALID_TOKEN);
    upstream.refuse(() => ({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="live"' } }));
    const plain = await open('/live/chat', cookie);
    expect(plain.status).toBe(401);
    expect(upstream.refused).toHaveLength(2);
    expect(idp.stats.refreshes).toBe(0);
    expect(idp.stats.tokenRequests).toBe(0);
  });

  it('the forced refresh refused with invalid_grant: the session ends, 401 session_expired, no second handshake', async () => {
    const cookie = await session();
    upstream.refuse(() => REFUSED);
    idp.faults.setTokenEndpointFailure(400, { error: 'invalid_grant', error_description: 'grant revoked' });
    const res = await open('/live/chat', cookie);
    expect(res.status).toBe(401);
    if (!res.socket) expect(JSON.parse(res.body)).toEqual({ error: 'session_expired' });
    expect(upstream.refused).toHaveLength(1);
    idp.faults.setTokenEndpointFailure(null);
    const after = await call(`${gw.url}/auth/user`, cookie);
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body)).toEqual({ error: 'unauthenticated' });
  });

  it('another refusal (403) is still a 502: only a 401 passes through, and one with a body over 64 KiB does not', async () => {
    const cookie = await session();
    upstream.refuse(() => ({ status: 403 }));
    const res = await open('/live/chat', cookie);
    expect(res.status).toBe(502);
    if (!res.socket) expect(JSON.parse(res.body)).toEqual({ error: 'bad_gateway' });
    upstream.refuse(() => ({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="live"' }, body: 'x'.repeat(64 * 1024 + 1) }));
    expect((await open('/live/chat', cookie)).status).toBe(502);
    upstream.refuse(() => ({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="live"' }, body: 'x'.repeat(64 * 1024) }));
    const largest = await open('/live/chat', cookie);
    expect(largest.status).toBe(401);
    if (!largest.socket) expect(largest.body).toHaveLength(64 * 1024);
    expect(idp.stats.refreshes).toBe(0);
  });
});
