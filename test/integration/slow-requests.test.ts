import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { bodyOf, headersOf, slowRequest, statusOf, type SlowRequest } from '../helpers/slow-client.js';
import { startWatchingUpstream, type WatchingUpstream } from '../helpers/watching-upstream.js';

// Slow clients (issue 12, item 3): request bodies that trickle in must not take a route's
// upstream connections from everyone else, and server.requestTimeout ends them with 408.
// Real sockets on 127.0.0.1; the waits are conditions, the only clock bounds are generous.

let redis: TestRedis;
let idp: TestIdp;
let upstream: WatchingUpstream;
/** server.requestTimeout at its default (30s): slow uploads stay open for the whole test */
let patient: TestGateway;
/** server.requestTimeout 2s, server.maxConnections 200 */
let strict: TestGateway;
let patientCookie: string;
let strictCookie: string;
const open: SlowRequest[] = [];

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startWatchingUpstream();
  const routes = [{ prefix: '/api', upstream: upstream.url }];
  patient = await startGateway({ idp, store: redis.url, routes });
  strict = await startGateway({ idp, store: redis.url, routes, config: { server: { requestTimeout: '2s', maxConnections: 200 } } });
  patientCookie = (await loginThroughGateway(patient.url)).sessionCookie;
  strictCookie = (await loginThroughGateway(strict.url)).sessionCookie;
}, 60_000);

afterAll(async () => {
  for (const request of open) request.abandon();
  await patient?.close();
  await strict?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

const portOf = (gw: TestGateway) => Number(new URL(gw.url).port);

type Kind = 'chunked' | 'large' | 'small';

/** A POST to /api/<test>/<kind> whose body arrives a byte every half second. */
function slowUpload(gw: TestGateway, cookie: string, test: string, kind: Kind): SlowRequest {
  const framing = kind === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${kind === 'large' ? 1_000_000 : 100}`;
  const head = `POST /api/${test}/${kind} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-csrf: 1\r\ncookie: ${cookie}\r\ncontent-type: application/octet-stream\r\n${framing}`;
  const request = slowRequest(portOf(gw), { head, body: kind === 'chunked' ? 'chunked' : 'raw' });
  open.push(request);
  return request;
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function untilAsync(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const connectionsOf = (gw: TestGateway) =>
  new Promise<number>((resolve, reject) => gw.app.server.getConnections((err, count) => (err ? reject(err) : resolve(count))));

describe('slow request bodies', () => {
  it('do not hold up other calls on the same route while they trickle in', async () => {
    // more streamed uploads than the route's pool has connections (128), and small ones too
    const uploads = [
      ...Array.from({ length: 100 }, () => slowUpload(patient, patientCookie, 'crowd', 'chunked')),
      ...Array.from({ length: 50 }, () => slowUpload(patient, patientCookie, 'crowd', 'large')),
      ...Array.from({ length: 30 }, () => slowUpload(patient, patientCookie, 'crowd', 'small')),
    ];
    // as many streamed uploads as the route's pool has connections have reached the upstream
    await until(() => upstream.count('/crowd/', 'open') >= 128, 'the streamed uploads to reach the upstream');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const headers = { 'x-csrf': '1', cookie: patientCookie };
    const signal = AbortSignal.timeout(15_000);
    const [get, post] = await Promise.all([
      fetch(`${patient.url}/api/items`, { headers, signal }),
      fetch(`${patient.url}/api/items`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"a":1}', signal }),
    ]);
    expect(get.status).toBe(200);
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ ok: true, method: 'POST' });
    // answered while every slow upload was still open and unanswered
    expect(uploads.filter((u) => u.answered() || u.socket.destroyed)).toHaveLength(0);
    for (const upload of uploads) upload.abandon();
    // the clients went away: every upstream call they held is broken off; the small bodies never left
    await until(() => upstream.count('/crowd/', 'open') === 0, 'the abandoned uploads to be broken off upstream');
    expect(upstream.count('/crowd/', 'brokenOff')).toBe(150);
  }, 60_000);

  it('end with 408 and a closed connection after server.requestTimeout, and the upstream call is broken off', async () => {
    strict.logs.length = 0;
    const started = Date.now();
    const uploads = [
      ...Array.from({ length: 140 }, () => slowUpload(strict, strictCookie, 'timeout', 'chunked')),
      ...Array.from({ length: 10 }, () => slowUpload(strict, strictCookie, 'timeout', 'small')),
    ];
    const answers = await Promise.all(uploads.map((u) => u.closed));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    for (const raw of answers) {
      expect(statusOf(raw)).toBe('408');
      expect(headersOf(raw)).toContain('connection: close');
      expect(JSON.parse(bodyOf(raw))).toEqual({ error: 'request_timeout' });
    }
    // the streamed ones reached the upstream and were broken off there; the small ones never left
    await until(() => upstream.count('/timeout/chunked', 'brokenOff') === 140, 'the upstream calls to be broken off');
    expect(upstream.count('/timeout/', 'open')).toBe(0);
    expect(upstream.count('/timeout/', 'completed')).toBe(0);
    expect(upstream.count('/timeout/small', 'brokenOff')).toBe(0);

    const res = await fetch(`${strict.url}/api/after`, { headers: { 'x-csrf': '1', cookie: strictCookie }, signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    // a client's timeout is not logged as an upstream failure
    const lines = strict.logs.join('').split('\n').filter(Boolean);
    const levels = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(levels.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
    expect(levels.filter((l) => l.msg.includes('server.requestTimeout'))).toHaveLength(150);
  }, 60_000);

  it('also end when only the request head trickles in (slowloris)', async () => {
    const slowloris = slowRequest(portOf(strict), { head: 'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', body: 'none', slowHead: true, everyMs: 200 });
    open.push(slowloris);
    expect(statusOf(await slowloris.closed)).toBe('408');
  }, 30_000);

  it('break the upstream call off when the client goes away mid-body', async () => {
    const upload = slowUpload(patient, patientCookie, 'gone', 'chunked');
    await until(() => upstream.count('/gone/', 'open') === 1, 'the upload to reach the upstream');
    upload.abandon();
    await until(() => upstream.count('/gone/', 'brokenOff') === 1, 'the upstream call to be broken off');
  }, 30_000);
});

describe('server.maxConnections', () => {
  it('refuses connections past the limit, and takes them again once some close', async () => {
    const head = 'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1';
    // keep-alive connections that have each had an answer: all open, all idle
    // 200 with those already open (the test's own fetch keeps one)
    const already = await connectionsOf(strict);
    const held = Array.from({ length: 200 - already }, () => slowRequest(portOf(strict), { head, body: 'none', everyMs: 60_000 }));
    open.push(...held);
    await until(() => held.every((c) => c.answered()), 'the held connections to be answered');
    const refused = slowRequest(portOf(strict), { head, body: 'none', everyMs: 60_000 });
    expect(statusOf(await refused.closed)).toBe('');

    for (const c of held.slice(0, 10)) c.abandon();
    await untilAsync(async () => (await connectionsOf(strict)) <= 190, 'the server to count the closed connections');
    const res = await fetch(`${strict.url}/healthz`);
    expect(res.status).toBe(200);
    for (const c of held) c.abandon();
  }, 30_000);
});
