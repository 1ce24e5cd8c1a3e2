import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// An upstream that refuses the bearer with `WWW-Authenticate: Bearer error="invalid_token"`
// (revoked, or not yet known to it) gets one forced refresh and one replay; anything else
// passes through as the upstream said it.

let stack: Stack;
let cookie: string;

const INVALID_TOKEN = 'Bearer realm="api", error="invalid_token", error_description="revoked"';

/** The upstream refuses every bearer in `refused` and answers the rest with an echo. */
function refuse(refused: (bearer: string | undefined) => boolean, challenge = INVALID_TOKEN) {
  stack.upstream.respond((req, res) => {
    if (refused(req.headers.authorization)) {
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
      res.end('{"error":"invalid_token"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ body: req.body.toString('utf8') }));
  });
}

beforeAll(async () => {
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/strict', upstream: url, retryOn401: false },
    ],
  });
  ({ sessionCookie: cookie } = await loginThroughGateway(stack.gw.url));
});

afterAll(async () => stack?.close());

beforeEach(() => {
  stack.upstream.seen.length = 0;
  stack.upstream.respond(undefined);
  stack.idp.resetStats();
});

const bearers = () => stack.upstream.seen.map((r) => r.headers.authorization);

describe('upstream 401 invalid_token', () => {
  it('refreshes once and replays a call without a body', async () => {
    const { headers } = await call(`${stack.gw.url}/api/x`, cookie).then(() => stack.upstream.seen[0]!);
    const first = headers.authorization;
    stack.upstream.seen.length = 0;
    refuse((bearer) => bearer === first);
    const res = await call(`${stack.gw.url}/api/x`, cookie);
    expect(res.status).toBe(200);
    expect(stack.idp.stats.refreshes).toBe(1);
    const [refused, replayed] = bearers();
    expect(refused).toBe(first);
    expect(replayed).toMatch(/^Bearer /);
    expect(replayed).not.toBe(first);
    // the new token is kept: the next call uses it without refreshing
    expect((await call(`${stack.gw.url}/api/x`, cookie)).status).toBe(200);
    expect(bearers()[2]).toBe(replayed);
    expect(stack.idp.stats.refreshes).toBe(1);
  });

  it('answers with the headers of the replay only: nothing of the refused 401 is left', async () => {
    let refusedOnce = false;
    stack.upstream.respond((_req, res) => {
      if (!refusedOnce) {
        refusedOnce = true;
        res.writeHead(401, { 'www-authenticate': INVALID_TOKEN, 'x-refused': 'yes', 'content-length': '25' });
        res.end('{"error":"invalid_token"}');
        return;
      }
      // chunked, and longer than the 401's Content-Length
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a'.repeat(60));
      res.end('b'.repeat(40));
    });
    const res = await fetch(`${stack.gw.url}/api/headers`, { headers: { 'x-csrf': '1', cookie }, signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.headers.get('x-refused')).toBeNull();
    expect(res.headers.get('content-length')).not.toBe('25');
    expect(await res.text()).toBe('a'.repeat(60) + 'b'.repeat(40));
  });

  it('passes an upstream 503 on a GET through as it came, without trying again', async () => {
    stack.upstream.respond((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('maintenance');
    });
    const res = await call(`${stack.gw.url}/api/busy`, cookie);
    expect(res.status).toBe(503);
    expect(res.body).toBe('maintenance');
    expect(stack.upstream.seen).toHaveLength(1);
  });

  it('replays a small body byte for byte with its content type', async () => {
    let refusedOnce = false;
    refuse(() => !refusedOnce && (refusedOnce = true));
    const body = JSON.stringify({ order: 42, note: 'ünïcode' });
    const res = await call(`${stack.gw.url}/api/orders`, cookie, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ body });
    expect(stack.upstream.seen).toHaveLength(2);
    for (const seen of stack.upstream.seen) {
      expect(seen.body.toString('utf8')).toBe(body);
      expect(seen.headers['content-type']).toBe('application/json; charset=utf-8');
    }
    expect(stack.idp.stats.refreshes).toBe(1);
  });

  it('passes the 401 through for a body too large to replay (text/plain streams like any type)', async () => {
    refuse(() => true);
    const res = await call(`${stack.gw.url}/api/upload`, cookie, { method: 'POST', body: 'x'.repeat(200_000) });
    expect(res.status).toBe(401);
    expect(stack.upstream.seen).toHaveLength(1);
    expect(stack.upstream.seen[0]!.body.length).toBe(200_000);
    expect(stack.idp.stats.refreshes).toBe(0);
  });

  it('replays only once: a second refusal passes through', async () => {
    refuse(() => true);
    const res = await call(`${stack.gw.url}/api/x`, cookie);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ error: 'invalid_token' });
    expect(stack.upstream.seen).toHaveLength(2);
    expect(stack.idp.stats.refreshes).toBe(1);
  });

  it('passes through a 401 without the invalid_token challenge, and on a route with retryOn401 off', async () => {
    refuse(() => true, 'Bearer realm="api"');
    expect((await call(`${stack.gw.url}/api/x`, cookie)).status).toBe(401);
    refuse(() => true);
    expect((await call(`${stack.gw.url}/strict/x`, cookie)).status).toBe(401);
    expect(stack.upstream.seen).toHaveLength(2);
    expect(stack.idp.stats.refreshes).toBe(0);
  });
});
