import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publicJwk } from '../../src/oidc/dpop.js';
import { introspect, randomNonce } from '../helpers/dpop-check.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';
import { closeOf, nextMessage, openSocket } from '../helpers/ws-client.js';
import { startWsDpopUpstream, type WsDpopUpstream } from '../helpers/ws-dpop-upstream.js';

// oidc.dpop on WebSocket upgrades, against a WebSocket upstream that checks DPoP on its
// handshakes with jose (ws-dpop-upstream.ts): the handshake carries `Authorization: DPoP
// <token>` and a proof for that GET (htu = the upstream URL the path is rewritten to, without
// query; ath of the token), bound to the session's key, on exchange routes too; an upstream's
// use_dpop_nonce challenge is answered once, and the second handshake after a 401
// invalid_token carries a fresh proof for the new token. Upgrades used to send a bound token
// as `Bearer` without a proof, which a DPoP upstream refuses.

const APP_ORIGIN = 'http://app.test';
const ORDERS = 'https://orders.example';

let redis: TestRedis;
let idp: TestIdp;
let upstream: WsDpopUpstream;
let gw: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600, dpopNonce: true, exchangeAudiences: [ORDERS] });
  upstream = await startWsDpopUpstream(idp);
  gw = await startGateway({
    idp,
    store: redis.url,
    routes: [
      // served under another path upstream: the proof's htu must name the upstream's path
      { prefix: '/live', upstream: `${upstream.url}/up`, websocket: true },
      { prefix: '/orders', upstream: upstream.url, websocket: true, exchange: { audience: ORDERS } },
    ],
    config: { server: { allowedOrigins: [APP_ORIGIN] }, oidc: { dpop: true } },
  });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

beforeEach(() => {
  upstream.checker.calls.length = 0;
  upstream.checker.requireNonce(null);
});

/** A fresh session: its cookie, its own access token and its key's thumbprint. */
async function session(): Promise<{ cookie: string; own: string; jkt: string }> {
  const { sessionCookie } = await loginThroughGateway(gw.url);
  idp.resetStats();
  const data = await peekSession(redis.client(), sessionCookie);
  const key = data!.tokens.dpopKey!;
  return { cookie: sessionCookie, own: data!.tokens.accessToken, jkt: await calculateJwkThumbprint(publicJwk(key)) };
}

/** Opens a socket, checks an echo through it, closes it. */
async function openAndEcho(path: string, cookie: string): Promise<void> {
  const opened = await openSocket(`${gw.url}${path}`, { cookie, origin: APP_ORIGIN });
  expect(opened.status).toBe(101);
  const socket = opened.socket!;
  const echo = nextMessage(socket);
  socket.send('bound');
  expect((await echo).data.toString()).toBe('bound');
  socket.close();
  await closeOf(socket);
}

const outcomes = () => upstream.checker.calls.map((c) => c.error ?? c.status);

describe('DPoP on the WebSocket handshake', () => {
  it('sends Authorization: DPoP with a proof for the handshake, bound to the session key', async () => {
    const { cookie, own, jkt } = await session();
    await openAndEcho('/live/chat?room=1', cookie);
    expect(outcomes()).toEqual([200]);
    const seen = upstream.checker.calls[0]!;
    expect(seen).toMatchObject({ method: 'GET', url: '/up/chat?room=1', scheme: 'DPoP', token: own, jkt, sub: 'alice' });
    expect(upstream.handshakes.at(-1)?.headers.authorization).toBe(`DPoP ${own}`);
    // two upgrades, two proofs (the upstream refuses a replayed jti)
    await openAndEcho('/live/chat', cookie);
    expect(outcomes()).toEqual([200, 200]);
  });

  it('on an exchange route: the exchanged token, bound to the same key, with its proof', async () => {
    const { cookie, own, jkt } = await session();
    await openAndEcho('/orders/feed', cookie);
    expect(outcomes()).toEqual([200]);
    const exchanged = upstream.checker.calls[0]!.token!;
    expect(exchanged).not.toBe(own);
    expect(upstream.checker.calls[0]).toMatchObject({ scheme: 'DPoP', jkt });
    expect(await introspect(idp, exchanged)).toMatchObject({ aud: ORDERS, cnf: { jkt } });
  });

  it('answers an upstream use_dpop_nonce challenge once, and keeps the nonce for the next handshake', async () => {
    const { cookie } = await session();
    upstream.checker.requireNonce(randomNonce());
    await openAndEcho('/live/chat', cookie);
    expect(outcomes()).toEqual(['use_dpop_nonce', 200]);
    await openAndEcho('/live/chat', cookie);
    expect(outcomes()).toEqual(['use_dpop_nonce', 200, 200]);
    // a nonce that changes again: one more challenge, answered, never a second one
    upstream.checker.requireNonce(randomNonce());
    await openAndEcho('/live/chat', cookie);
    expect(outcomes()).toEqual(['use_dpop_nonce', 200, 200, 'use_dpop_nonce', 200]);
  });

  it('after a 401 invalid_token: a refresh and a second handshake with the new token and a proof for it', async () => {
    const { cookie, own, jkt } = await session();
    // the upstream refuses the session's current token once
    const check = upstream.checker.check;
    let refused = false;
    upstream.refuse(async (request) => {
      const { refusal } = await check(request);
      if (refusal || refused) return refusal;
      refused = true;
      return { status: 401, headers: { 'WWW-Authenticate': 'DPoP error="invalid_token"' } };
    });
    try {
      await openAndEcho('/live/chat', cookie);
      expect(idp.stats.refreshes).toBe(1);
      const [first, second] = upstream.checker.calls;
      expect(first).toMatchObject({ token: own, jkt, status: 200 });
      expect(second).toMatchObject({ scheme: 'DPoP', jkt, status: 200 });
      expect(second!.token).not.toBe(own);
      expect((await introspect(idp, second!.token!)).cnf?.jkt).toBe(jkt);
    } finally {
      upstream.refuse(async (request) => (await check(request)).refusal);
    }
  });
});
