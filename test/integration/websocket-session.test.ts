import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, expiringSession } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { closeOf, openSocket } from '../helpers/ws-client.js';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.js';

// The session side of a proxied WebSocket: the token is refreshed before the upstream
// handshake when due, a refresh refused with invalid_grant ends the socket, an open socket
// keeps its session's idle timeout sliding, and the absolute timeout ends it.

const APP_ORIGIN = 'http://app.test';

let redis: TestRedis;
let idp: TestIdp;
let wsUpstream: WsUpstream;
let httpUpstream: TestUpstream;
let gw: TestGateway;

function start(session: Record<string, unknown> = {}): Promise<TestGateway> {
  return startGateway({
    idp,
    store: redis.url,
    routes: [
      { prefix: '/live', upstream: wsUpstream.url, websocket: true },
      // a socket on the session that sends no token (so opening it refreshes nothing)
      { prefix: '/plain', upstream: wsUpstream.url, websocket: true, token: 'none', requireSession: true },
      { prefix: '/api', upstream: httpUpstream.url },
    ],
    config: { server: { allowedOrigins: [APP_ORIGIN] }, session },
  });
}

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  wsUpstream = await startWsUpstream();
  httpUpstream = await startUpstream();
  gw = await start();
});

afterAll(async () => {
  await gw?.close();
  await wsUpstream?.close();
  await httpUpstream?.close();
  await idp?.close();
  await redis?.close();
});

describe('WebSocket sessions', () => {
  it('a token due for refresh is refreshed before the upstream handshake', async () => {
    const cookie = await expiringSession(idp, gw.url);
    idp.resetStats();
    const { socket } = await openSocket(`${gw.url}/live/x`, { cookie, origin: APP_ORIGIN });
    expect(socket).toBeDefined();
    expect(idp.stats.refreshes).toBe(1);
    const bearer = wsUpstream.handshakes.at(-1)!.headers.authorization;
    // the refreshed token is the one an HTTP call now gets too
    await call(`${gw.url}/api/x`, cookie);
    expect(httpUpstream.seen.at(-1)!.headers.authorization).toBe(bearer);
    expect(idp.stats.refreshes).toBe(1);
    socket!.close();
    await closeOf(socket!);
  });

  it('a refresh refused with invalid_grant (by an HTTP call) closes the open socket with 4401', async () => {
    const cookie = await expiringSession(idp, gw.url);
    const { socket } = await openSocket(`${gw.url}/plain/x`, { cookie, origin: APP_ORIGIN });
    expect(socket).toBeDefined();
    const closed = closeOf(socket!);
    idp.faults.setTokenEndpointFailure(400, { error: 'invalid_grant', error_description: 'grant revoked' });
    try {
      const started = performance.now();
      expect((await call(`${gw.url}/api/x`, cookie)).status).toBe(401);
      const end = await closed;
      expect(end).toMatchObject({ code: 4401, reason: 'session ended' });
      expect(end.at - started).toBeLessThan(2_000);
    } finally {
      idp.faults.setTokenEndpointFailure(null);
    }
  });

  it('an open socket keeps the idle timeout sliding; the absolute timeout ends it with 4401', async () => {
    const short = await start({ idleTimeout: '2s', absoluteTimeout: '7s' });
    try {
      const { sessionCookie } = await loginThroughGateway(short.url);
      const loggedInAt = performance.now();
      const { socket } = await openSocket(`${short.url}/plain/x`, { cookie: sessionCookie, origin: APP_ORIGIN });
      const closed = closeOf(socket!);
      await new Promise((resolve) => setTimeout(resolve, 4_000)); // twice the idle timeout, no HTTP call
      expect(socket!.readyState).toBe(WebSocket.OPEN);
      expect((await call(`${short.url}/api/x`, sessionCookie)).status).toBe(200);
      const end = await closed;
      expect(end).toMatchObject({ code: 4401, reason: 'session ended' });
      expect(end.at - loggedInAt).toBeLessThan(7_000 + 2_000);
    } finally {
      await short.close();
    }
  });
});
