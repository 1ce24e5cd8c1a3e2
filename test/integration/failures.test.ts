import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Failures of what stands behind the gateway: each has its contract status, never a 500.

let stack: Stack;
let redis: Stack['redis'];
let upstream: Stack['upstream'];
let gw: Stack['gw'];

beforeAll(async () => {
  const deadPort = await freePort();
  stack = await startStack({
    redis: { mustControl: true },
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/slow', upstream: url, timeout: '300ms' },
      { prefix: '/dead', upstream: `http://127.0.0.1:${deadPort}` },
    ],
  });
  ({ redis, upstream, gw } = stack);
});

afterAll(async () => stack?.close());

const call = (path: string, cookie: string) => fetch(`${gw.url}${path}`, { headers: { 'x-csrf': '1', cookie } });

describe('upstream failures', () => {
  it('answers 502 bad_gateway when the upstream is unreachable', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const res = await call('/dead/x', sessionCookie);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'bad_gateway' });
  });

  it('answers 504 gateway_timeout when the upstream does not answer in time', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    upstream.respond(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1_500));
      res.end('late');
    });
    try {
      const res = await call('/slow/x', sessionCookie);
      expect(res.status).toBe(504);
      expect(await res.json()).toEqual({ error: 'gateway_timeout' });
    } finally {
      upstream.respond(undefined);
    }
  });

  it('passes upstream statuses and bodies through as they are', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    upstream.respond((_req, res) => {
      res.writeHead(418, { 'content-type': 'text/plain', 'x-upstream': 'yes' });
      res.end('teapot');
    });
    try {
      const res = await call('/api/x', sessionCookie);
      expect(res.status).toBe(418);
      expect(res.headers.get('x-upstream')).toBe('yes');
      expect(await res.text()).toBe('teapot');
    } finally {
      upstream.respond(undefined);
    }
  });
});

describe('store failures', () => {
  it('answers 503 session_store_unavailable quickly while Redis is down, and recovers the session after', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    expect((await call('/api/x', sessionCookie)).status).toBe(200);
    await redis.stop();
    try {
      for (const path of ['/api/x', '/auth/user']) {
        const started = Date.now();
        const res = await call(path, sessionCookie);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ error: 'session_store_unavailable' });
      }
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable' });
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    } finally {
      await redis.start();
    }
    // this Redis does not persist, so the session is gone, but the gateway answers again
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await call('/api/x', sessionCookie)).status;
      if (status !== 503) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });
});
