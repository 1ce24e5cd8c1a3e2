import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Streamed answers pass chunk by chunk: an event reaches the client while the upstream still
// holds the stream open (even when it declared a small Content-Length), and the route's
// timeout bounds the silence between chunks, never the length of a stream.

let stack: Stack;
let cookie: string;
/** the upstream writes its last part when a test calls this */
let release: () => void = () => {};

beforeAll(async () => {
  stack = await startStack({ routes: (url) => [{ prefix: '/api', upstream: url, timeout: '400ms' }] });
  cookie = (await loginThroughGateway(stack.gw.url)).sessionCookie;
});

afterAll(async () => {
  release();
  await stack?.close();
});

function held(): Promise<void> {
  return new Promise((resolve) => (release = resolve));
}

async function open(path: string) {
  const res = await fetch(`${stack.gw.url}${path}`, { headers: { cookie, 'x-csrf': '1' }, signal: AbortSignal.timeout(15_000) });
  return { res, reader: res.body!.getReader(), decoder: new TextDecoder() };
}

describe('streamed answers', () => {
  it('an event stream: the first event arrives while the upstream still holds the stream open', async () => {
    let ended = false;
    let writtenAt = 0;
    stack.upstream.respond(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: one\n\n');
      writtenAt = performance.now();
      await held();
      ended = true;
      res.end('data: two\n\n');
    });
    const { res, reader, decoder } = await open('/api/events');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const first = await reader.read();
    const latency = performance.now() - writtenAt;
    expect(decoder.decode(first.value)).toBe('data: one\n\n');
    expect(ended).toBe(false);
    expect(latency).toBeLessThan(1_000); // the contract's 100 ms is measured by the bench
    release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(rest).toBe('data: two\n\n');
  });

  it("an event stream's head reaches the client before its first event, however late that comes", async () => {
    let written = false;
    stack.upstream.respond(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-feed': 'prices' });
      res.flushHeaders();
      await held(); // no event until the client has the head (fastify alone would hold it until then)
      written = true;
      res.end('data: one\n\n');
    });
    const { res, reader, decoder } = await open('/api/events');
    expect(written).toBe(false);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('x-feed')).toBe('prices');
    release();
    let body = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) body += decoder.decode(chunk.value);
    expect(body).toBe('data: one\n\n');
  });

  it('an event stream that declares a small Content-Length is not read whole first', async () => {
    let ended = false;
    stack.upstream.respond(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': '22' });
      res.write('data: one\n\n');
      await held();
      ended = true;
      res.end('data: two\n\n');
    });
    const { reader, decoder } = await open('/api/events');
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('data: one\n\n');
    expect(ended).toBe(false);
    release();
    await reader.cancel();
  });

  it('a chunked answer: each chunk goes on as it comes', async () => {
    let ended = false;
    stack.upstream.respond(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[1,');
      await held();
      ended = true;
      res.end('2]');
    });
    const { reader, decoder } = await open('/api/chunked');
    expect(decoder.decode((await reader.read()).value)).toBe('[1,');
    expect(ended).toBe(false);
    release();
    await reader.cancel();
  });

  it('a stream longer than the route timeout, with chunks more frequent than it, arrives whole', async () => {
    stack.upstream.respond(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 12; i++) {
        res.write(`data: ${i}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      res.end();
    });
    const started = performance.now();
    const { res, reader, decoder } = await open('/api/long');
    let body = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) body += decoder.decode(chunk.value);
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThan(1_000); // well past the 400 ms timeout
    expect(body.match(/data: \d+/g)).toHaveLength(12);
  });

  it('a silence between chunks longer than the timeout cuts the stream off', async () => {
    stack.upstream.respond(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      await held(); // silent until released
      res.end();
    });
    const { reader } = await open('/api/stalled');
    await reader.read();
    await expect(
      (async () => {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
      })(),
    ).rejects.toThrow();
    release();
  });
});
