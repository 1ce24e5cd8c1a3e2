import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { closeOf, openSocket } from '../helpers/ws-client.js';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.js';

// X-Forwarded-For/-Proto/-Host, Forwarded and X-Real-IP on a WebSocket upgrade follow
// server.trustProxy exactly as on a proxied HTTP call: for each setting the same made-up
// client headers go once through an HTTP route and once through an upgrade, and both
// upstreams must see the same values (and the values each setting stands for). The peer is
// the loopback (127.0.0.1) in every case.

const APP_ORIGIN = 'http://app.test';
/** what a client (or a proxy in front) claims: a chain, a scheme and a host, each a list */
const CLAIMED = {
  'x-forwarded-for': '6.6.6.6, 203.0.113.7',
  'x-forwarded-proto': 'http, https',
  'x-forwarded-host': 'evil.example, app.example',
  forwarded: 'for=6.6.6.6;proto=https',
  'x-real-ip': '6.6.6.6',
};
const FORWARDING = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip'] as const;

let idp: TestIdp;
let http: TestUpstream;
let ws: WsUpstream;

beforeAll(async () => {
  idp = await startTestIdp();
  http = await startUpstream();
  ws = await startWsUpstream();
});

afterAll(async () => {
  await ws?.close();
  await http?.close();
  await idp?.close();
});

/** The forwarding headers an HTTP call and an upgrade each brought their upstream, through a gateway with this trustProxy. */
async function forwardedBoth(trustProxy: unknown): Promise<{ viaHttp: IncomingHttpHeaders; viaUpgrade: IncomingHttpHeaders; gatewayHost: string }> {
  const gw = await startGateway({
    idp,
    store: 'memory',
    routes: [
      { prefix: '/plain', upstream: http.url, token: 'none' },
      { prefix: '/live', upstream: ws.url, websocket: true, token: 'none' },
    ],
    config: { server: { allowedOrigins: [APP_ORIGIN], trustProxy } },
  });
  try {
    const res = await fetch(`${gw.url}/plain/x`, { headers: CLAIMED });
    expect(res.status).toBe(200);
    const opened = await openSocket(`${gw.url}/live/x`, { ...CLAIMED, origin: APP_ORIGIN });
    expect(opened.status).toBe(101);
    opened.socket!.close();
    await closeOf(opened.socket!);
    const pick = (headers: IncomingHttpHeaders) => Object.fromEntries(FORWARDING.map((name) => [name, headers[name]]));
    return { viaHttp: pick(http.seen.at(-1)!.headers), viaUpgrade: pick(ws.handshakes.at(-1)!.headers), gatewayHost: new URL(gw.url).host };
  } finally {
    await gw.close();
  }
}

describe('forwarding headers on upgrades follow server.trustProxy as HTTP calls do', () => {
  it('trustProxy off: the client\'s values are replaced by the peer, the scheme and host it used', async () => {
    const { viaHttp, viaUpgrade, gatewayHost } = await forwardedBoth(false);
    expect(viaUpgrade).toEqual(viaHttp);
    expect(viaUpgrade).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': gatewayHost });
    expect(viaUpgrade.forwarded).toBe(`for=127.0.0.1;host="${gatewayHost}";proto=http`);
  });

  it('trustProxy an address (the peer): the chain up to the first untrusted entry is kept and extended, the last proto and host believed', async () => {
    const { viaHttp, viaUpgrade } = await forwardedBoth('127.0.0.1');
    expect(viaUpgrade).toEqual(viaHttp);
    expect(viaUpgrade).toEqual({
      'x-forwarded-for': '203.0.113.7, 127.0.0.1', // 6.6.6.6 came from behind the untrusted 203.0.113.7
      'x-real-ip': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example',
      forwarded: 'for=203.0.113.7;host=app.example;proto=https, for=127.0.0.1',
    });
  });

  it('trustProxy true: the whole chain is kept', async () => {
    const { viaHttp, viaUpgrade } = await forwardedBoth(true);
    expect(viaUpgrade).toEqual(viaHttp);
    expect(viaUpgrade).toMatchObject({ 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 127.0.0.1', 'x-real-ip': '6.6.6.6', 'x-forwarded-proto': 'https' });
  });

  it('trustProxy a CIDR the peer is not in, or a hop count (fastify 5 trusts nothing on one): as off', async () => {
    for (const setting of ['10.0.0.0/8', 2]) {
      const { viaHttp, viaUpgrade, gatewayHost } = await forwardedBoth(setting);
      expect(viaUpgrade).toEqual(viaHttp);
      expect(viaUpgrade).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': gatewayHost });
    }
  });
});
