import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, startInstances, type Instances } from '../helpers/instances.js';
import { loginThroughGateway, logoutAtIdp } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { closeOf, eventually, nextMessage, openSocket } from '../helpers/ws-client.js';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.js';

// WebSockets through the gateway, against real sockets: the Origin check, the session
// rules before the upgrade, the upstream handshake, messages both ways, the size limit,
// and sockets that end with their session (on another instance, or by back-channel logout).

const APP_ORIGIN = 'http://app.test';

let redis: TestRedis;
let idp: TestIdp;
let upstream: WsUpstream;
let instances: Instances;

const routes = () => [
  { prefix: '/live', upstream: upstream.url, websocket: true, websocketMaxBytes: '1kb' },
  { prefix: '/open', upstream: upstream.url, websocket: true, requireSession: false, token: 'none' },
];
const gatewayOptions = () => ({
  idp,
  store: redis.url,
  routes: routes(),
  config: { server: { allowedOrigins: [APP_ORIGIN] } },
});
const gw = (i: number) => instances.gateways[i]!;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startWsUpstream({ protocol: 'chat.v1' });
  instances = await startInstances(2, gatewayOptions());
});

afterAll(async () => {
  await instances?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

async function loggedIn(i = 0) {
  return loginThroughGateway(gw(i).url);
}

describe('WebSocket upgrades', () => {
  it('an upgrade with another Origin, or none, is refused with 403 and nothing reaches the upstream', async () => {
    const { sessionCookie } = await loggedIn();
    const before = upstream.handshakes.length;
    const evil = await openSocket(`${gw(0).url}/live/chat`, { cookie: sessionCookie, origin: 'http://evil.test' });
    expect(evil.status).toBe(403);
    expect(evil.socket).toBeUndefined();
    if (!evil.socket) expect(JSON.parse(evil.body)).toEqual({ error: 'origin_not_allowed' });
    const none = await openSocket(`${gw(0).url}/live/chat`, { cookie: sessionCookie });
    expect(none.status).toBe(403);
    expect(upstream.handshakes.length).toBe(before);
  });

  it('no session: 401 as plain HTTP before any upgrade, nothing forwarded', async () => {
    const before = upstream.handshakes.length;
    const res = await openSocket(`${gw(0).url}/live/chat`, { origin: APP_ORIGIN });
    expect(res.status).toBe(401);
    if (!res.socket) expect(JSON.parse(res.body)).toEqual({ error: 'unauthenticated' });
    expect(upstream.handshakes.length).toBe(before);
  });

  it('the upstream handshake carries the bearer token and the client cookies minus the gateway ones', async () => {
    const { sessionCookie } = await loggedIn();
    const { socket } = await openSocket(`${gw(0).url}/live/chat?room=1`, { cookie: `theme=dark; ${sessionCookie}`, origin: APP_ORIGIN }, ['chat.v1']);
    expect(socket).toBeDefined();
    expect(socket!.protocol).toBe('chat.v1'); // the upstream's choice reaches the client
    const seen = upstream.handshakes.at(-1)!;
    expect(seen.url).toBe('/chat?room=1');
    expect(seen.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(seen.headers.cookie).toBe('theme=dark');
    expect(seen.headers.origin).toBe(APP_ORIGIN);
    socket!.close();
    await closeOf(socket!);
  });

  it('text and binary messages pass both ways unchanged; pings and close codes pass through', async () => {
    const { sessionCookie } = await loggedIn();
    const { socket } = await openSocket(`${gw(0).url}/live/echo`, { cookie: sessionCookie, origin: APP_ORIGIN });
    const ws = socket!;
    const text = nextMessage(ws);
    ws.send('héllo');
    expect((await text).isBinary).toBe(false);
    const binary = Buffer.from([0, 1, 2, 255, 254]);
    const echoed = nextMessage(ws);
    ws.send(binary);
    const got = await echoed;
    expect(got.isBinary).toBe(true);
    expect(Buffer.compare(got.data, binary)).toBe(0);
    const pingsBefore = upstream.pings.length;
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('are-you-there');
    expect((await pong).toString()).toBe('are-you-there'); // answered by the upstream
    expect(upstream.pings.length).toBe(pingsBefore + 1);
    const closed = closeOf(ws);
    ws.send('close:4000');
    expect(await closed).toMatchObject({ code: 4000, reason: 'bye' });
  });

  it('a message over websocketMaxBytes closes the socket with 1009, and the upstream side too', async () => {
    const { sessionCookie } = await loggedIn();
    const { socket } = await openSocket(`${gw(0).url}/live/echo`, { cookie: sessionCookie, origin: APP_ORIGIN });
    const small = nextMessage(socket!);
    socket!.send(Buffer.alloc(1024, 1));
    expect((await small).data.length).toBe(1024);
    const upstreamSockets = upstream.sockets.size;
    const closed = closeOf(socket!);
    socket!.send(Buffer.alloc(1025, 1));
    expect((await closed).code).toBe(1009);
    await eventually(() => upstream.sockets.size === upstreamSockets - 1);
  });

  it('fragments pass as they are (a ping between them too); the maximum counts all fragments of a message, and holds for the upstream too', async () => {
    const { sessionCookie } = await loggedIn();
    const headers = { cookie: sessionCookie, origin: APP_ORIGIN };
    const { socket } = await openSocket(`${gw(0).url}/live/echo`, headers);
    const ws = socket!;
    const echoed = nextMessage(ws);
    ws.send(Buffer.alloc(600, 1), { fin: false });
    ws.ping('between');
    ws.send(Buffer.alloc(424, 2), { fin: true }); // 1024 in all: allowed
    const got = await echoed;
    expect(got.data.length).toBe(1024);
    expect(got.data[0]).toBe(1);
    expect(got.data[1023]).toBe(2);
    const closed = closeOf(ws);
    ws.send(Buffer.alloc(600, 1), { fin: false });
    ws.send(Buffer.alloc(425, 2), { fin: true }); // 1025: one byte over
    expect((await closed).code).toBe(1009);

    const second = (await openSocket(`${gw(0).url}/live/echo`, headers)).socket!;
    const upstreamSockets = upstream.sockets.size;
    const secondClosed = closeOf(second);
    second.send('big:1025'); // the upstream's message over the maximum
    expect((await secondClosed).code).toBe(1009);
    await eventually(() => upstream.sockets.size === upstreamSockets - 1);
  });

  it('backpressure: while the upstream does not read, the gateway stops reading the client', async () => {
    const { socket } = await openSocket(`${gw(0).url}/open/x`, { origin: APP_ORIGIN });
    const ws = socket!;
    ws.send('pause:4000');
    const chunk = Buffer.alloc(64 * 1024, 7);
    const count = 512; // 32 MB, far more than socket buffers hold
    let echoed = 0;
    const all = new Promise<void>((resolve) => ws.on('message', () => ++echoed === count && resolve()));
    for (let i = 0; i < count; i++) ws.send(chunk);
    // for 3 s (the upstream reads nothing for 4): most of it still waits in the client, the
    // gateway has not read it all into its own memory
    let least = Infinity;
    for (let waited = 0; waited < 3_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      least = Math.min(least, ws.bufferedAmount);
    }
    expect(least).toBeGreaterThan(8 * 1024 * 1024);
    await all; // and once the upstream reads again, every message arrives
    ws.close();
    await closeOf(ws);
  });

  it("an upstream 101 that does not answer the client's handshake (wrong accept, an extension) is a 502, and no socket opens", async () => {
    const { createServer } = await import('node:net');
    const answers = [
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n',
      null, // the right accept, with permessage-deflate nobody offered
    ];
    const fake = createServer((socket) => {
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString();
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '';
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        const answer = answers.shift() ?? `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`;
        socket.end(answer);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const port = (fake.address() as { port: number }).port;
    const g = await startGateway({ ...gatewayOptions(), routes: [{ prefix: '/fake', upstream: `http://127.0.0.1:${port}`, websocket: true, requireSession: false, token: 'none' }] });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await openSocket(`${g.url}/fake/x`, { origin: APP_ORIGIN });
        expect(res.status).toBe(502);
        expect(res.socket).toBeUndefined();
      }
    } finally {
      await g.close();
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it('a route without session rules proxies anonymous upgrades (Origin still checked)', async () => {
    const { socket } = await openSocket(`${gw(0).url}/open/x`, { origin: APP_ORIGIN });
    expect(socket).toBeDefined();
    expect(upstream.handshakes.at(-1)!.headers.authorization).toBeUndefined();
    socket!.close(1000);
    await closeOf(socket!);
  });
});

describe('sockets end with their session', () => {
  it('a logout on instance B closes the socket held on instance A within 2 s (4401), and its upstream side', async () => {
    const { sessionCookie } = await loggedIn(0);
    const { socket } = await openSocket(`${gw(0).url}/live/echo`, { cookie: sessionCookie, origin: APP_ORIGIN });
    const upstreamSocket = [...upstream.sockets].at(-1)!;
    const upstreamClosed = new Promise<void>((resolve) => upstreamSocket.once('close', () => resolve()));
    const metrics = await (await fetch(`${gw(0).url}/metrics`)).text();
    expect(metrics).toMatch(/bff_websocket_connections\{route="\/live"\} [1-9]/);

    const closed = closeOf(socket!);
    const started = performance.now();
    const logout = await call(`${gw(1).url}/auth/logout`, sessionCookie, { method: 'POST' });
    expect(logout.status).toBe(200);
    const end = await closed;
    expect(end).toMatchObject({ code: 4401, reason: 'session ended' });
    expect(end.at - started).toBeLessThan(2_000);
    await upstreamClosed;
    const after = await (await fetch(`${gw(0).url}/metrics`)).text();
    expect(after).toMatch(/bff_websocket_closed_total\{reason="session_ended"\} [1-9]/);
  });

  it('a back-channel logout closes it too', async () => {
    await idp.configureBffClient({
      redirectUris: instances.gateways.map((g) => `${g.url}/auth/callback`),
      postLogoutRedirectUris: instances.gateways.map((g) => `${g.url}/`),
      backchannelLogoutUri: `${gw(1).url}/auth/backchannel-logout`,
    });
    const { sessionCookie, jar } = await loggedIn(0);
    const { socket } = await openSocket(`${gw(0).url}/live/echo`, { cookie: sessionCookie, origin: APP_ORIGIN });
    const closed = closeOf(socket!);
    const started = performance.now();
    await logoutAtIdp(`${idp.issuer}/session/end?client_id=bff`, jar);
    expect(idp.stats.backchannelLogoutFailures).toBe(0);
    const end = await closed;
    expect(end).toMatchObject({ code: 4401, reason: 'session ended' });
    expect(end.at - started).toBeLessThan(5_000); // the IdP's round trip included
  });

  it('a socket on another session stays open', async () => {
    const { sessionCookie } = await loggedIn(0);
    const other = await loggedIn(1);
    const { socket } = await openSocket(`${gw(0).url}/live/echo`, { cookie: sessionCookie, origin: APP_ORIGIN });
    await call(`${gw(1).url}/auth/logout`, other.sessionCookie, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket!.readyState).toBe(WebSocket.OPEN);
    const echo = nextMessage(socket!);
    socket!.send('still here');
    expect((await echo).data.toString()).toBe('still here');
    socket!.close();
    await closeOf(socket!);
  });
});

describe('graceful shutdown', () => {
  it('open sockets close with 1001 after the HTTP calls in flight are answered', async () => {
    const { startUpstream } = await import('../helpers/upstream.js');
    const slow = await startUpstream();
    slow.respond((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow answer'), 600);
    });
    const g = await startGateway({
      ...gatewayOptions(),
      routes: [...routes(), { prefix: '/slow', upstream: slow.url }],
    });
    try {
      const { sessionCookie } = await loginThroughGateway(g.url);
      const { socket } = await openSocket(`${g.url}/live/echo`, { cookie: sessionCookie, origin: APP_ORIGIN });
      const closed = closeOf(socket!);
      const inFlight = call(`${g.url}/slow/x`, sessionCookie).then((r) => ({ ...r, at: performance.now() }));
      await eventually(() => slow.seen.length === 1);
      const closing = g.close();
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(answered.body).toBe('slow answer');
      const end = await closed;
      expect(end.code).toBe(1001);
      expect(end.at).toBeGreaterThanOrEqual(answered.at - 50);
      await closing;
    } finally {
      await slow.close();
    }
  });
});
