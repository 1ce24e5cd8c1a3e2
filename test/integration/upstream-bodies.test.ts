import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';
import type { Responder } from '../helpers/upstream.js';

// Upstream bodies reach the client whole, whichever way the gateway sends them: small
// complete ones read first and sent as one buffer, every other one streamed (upstream.ts).

let stack: Stack;
let cookie: string;

beforeAll(async () => {
  stack = await startStack({ idp: { accessTokenTtl: 3600 }, routes: (url) => [{ prefix: '/api', upstream: url }] });
  cookie = (await loginThroughGateway(stack.gw.url)).sessionCookie;
});

afterAll(async () => stack?.close());

async function withUpstream<T>(responder: Responder, run: () => Promise<T>): Promise<T> {
  stack.upstream.respond(responder);
  try {
    return await run();
  } finally {
    stack.upstream.respond(undefined);
  }
}

const call = (method = 'GET') => fetch(`${stack.gw.url}/api/x`, { method, headers: { 'x-csrf': '1', cookie } });

describe('upstream bodies', () => {
  it('sends a small body with its length and type as they were', async () => {
    const body = JSON.stringify({ name: 'Zoë', items: [1, 2, 3] });
    const res = await withUpstream(
      (_req, res) => {
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), etag: '"v1"' });
        res.end(body);
      },
      () => call(),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(await res.text()).toBe(body);
  });

  it('adds no content type to a small body that has none', async () => {
    const res = await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-length': 2 });
        res.end('ok');
      },
      () => call(),
    );
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('ok');
  });

  it("keeps the upstream's Content-Length on the answer to a HEAD", async () => {
    const res = await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5000 });
        res.end();
      },
      () => call('HEAD'),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('5000');
    expect(await res.text()).toBe('');
  });

  it('streams a large body and one of unknown length, intact', async () => {
    const large = 'x'.repeat(300_000);
    const streamed = await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': large.length });
        res.end(large);
      },
      () => call(),
    );
    expect(await streamed.text()).toBe(large);
    const chunked = await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first,');
        setTimeout(() => res.end('second'), 20);
      },
      () => call(),
    );
    expect(await chunked.text()).toBe('first,second');
  });

  it('answers 502 bad_gateway when a small body breaks off before its length', async () => {
    const res = await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100 });
        res.write('only ten b');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      () => call(),
    );
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'bad_gateway' });
  });
});
