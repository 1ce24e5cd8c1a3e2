import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFault } from '../fixtures/soap/fault-reader.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// The hostile corpus against a logged-in SOAP route: every item is refused with a Fault
// (400, or 413 when too large) in bounded time, and nothing reaches the upstream, which
// counts TCP connections (the entity URLs point at it too, so a fetched entity would count).

const MAX_BYTES = 64 * 1024;
const BOUND_MS = 5_000;

let stack: Stack;
let cookie: string;
let counting: Server;
let countingUrl: string;
let connections = 0;

beforeAll(async () => {
  counting = createServer((_req, res) => res.end('<ok/>'));
  counting.on('connection', () => connections++);
  await new Promise<void>((resolve) => counting.listen(0, '127.0.0.1', resolve));
  const address = counting.address();
  countingUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: () => [
      { prefix: '/soap', upstream: countingUrl, soap: { inject: 'body', element: 'token', maxBytes: MAX_BYTES } },
      { prefix: '/soap-wsse', upstream: countingUrl, soap: { inject: 'wsse', maxBytes: MAX_BYTES } },
    ],
  });
  ({ sessionCookie: cookie } = await loginThroughGateway(stack.gw.url));
});

afterAll(async () => {
  await stack?.close();
  counting?.closeAllConnections();
  await new Promise((resolve) => counting?.close(resolve));
});

const file = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/soap/hostile/${name}`, import.meta.url)), 'utf8').replaceAll('{{URL}}', countingUrl);
const envelope = (body: string) => `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Op xmlns="urn:o">${body}</Op></s:Body></s:Envelope>`;

type Item = [name: string, body: () => string | Buffer, status: 400 | 413, contentType: string];
const XML11 = 'text/xml; charset=utf-8';
const XML12 = 'application/soap+xml; charset=utf-8';

const corpus: Item[] = [
  ['external entity (file)', () => file('xxe-file.xml'), 400, XML11],
  ['external entity (http)', () => file('xxe-http.xml'), 400, XML12],
  ['parameter entity', () => file('parameter-entity.xml'), 400, XML11],
  ['external DTD', () => file('external-dtd.xml'), 400, XML11],
  ['billion laughs', () => file('billion-laughs.xml'), 400, XML11],
  ['billion laughs (1.2)', () => file('billion-laughs.xml'), 400, XML12],
  ['undeclared entity', () => file('undeclared-entity.xml'), 400, XML11],
  ['quadratic blow-up', () => `<!DOCTYPE s:Envelope [<!ENTITY a "${'a'.repeat(30_000)}">]>${envelope('&a;'.repeat(5_000))}`, 400, XML11],
  ['DOCTYPE in UTF-16', () => Buffer.from(`\uFEFF<!DOCTYPE x [<!ENTITY a "b">]>${envelope('&a;')}`, 'utf16le'), 400, XML11],
  ['numeric character reference flood over maxBytes', () => envelope('&#65;'.repeat(20_000)), 413, XML11],
  ['oversized body (declared length)', () => envelope('x'.repeat(2 * 1024 * 1024)), 413, XML12],
  ['deep nesting', () => envelope(`${'<a>'.repeat(5_000)}${'</a>'.repeat(5_000)}`), 400, XML11],
  ['many attributes', () => envelope(`<p ${Array.from({ length: 1_000 }, (_, i) => `a${i}="v"`).join(' ')}/>`), 400, XML11],
  ['not XML', () => '{"secretId": 1}', 400, XML11],
];

async function post(path: string, body: string | Buffer, contentType: string) {
  const started = Date.now();
  const res = await fetch(`${stack.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-csrf': '1', cookie },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), ms: Date.now() - started };
}

/** A body sent in chunks without Content-Length, so the limit must hold while reading. */
function postChunked(path: string, chunk: Buffer, count: number): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${stack.gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': XML11, 'x-csrf': '1', cookie, 'transfer-encoding': 'chunked' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Date.now() - started }));
    });
    req.on('error', reject);
    req.write('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Op>');
    let sent = 0;
    const more = () => {
      while (sent < count) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', more);
      }
      req.end('</Op></s:Body></s:Envelope>');
    };
    more();
  });
}

describe('the hostile corpus', () => {
  it.each(corpus)('%s → %i Fault, bounded, nothing sent upstream', async (_name, body, status, contentType) => {
    for (const path of ['/soap', '/soap-wsse']) {
      const res = await post(path, body(), contentType);
      expect(res.status).toBe(status);
      expect(res.type).toBe(contentType.startsWith('text/xml') ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
      expect(readFault(res.text).reason).toBe(status === 413 ? 'payload_too_large' : 'invalid_soap_envelope');
      expect(res.ms).toBeLessThan(BOUND_MS);
    }
    expect(connections).toBe(0);
  });

  it('an oversized chunked body (no Content-Length) → 413 while it is being read', async () => {
    const res = await postChunked('/soap', Buffer.alloc(16 * 1024, 'x'), 64);
    expect(res.status).toBe(413);
    expect(readFault(res.text).reason).toBe('payload_too_large');
    expect(res.ms).toBeLessThan(BOUND_MS);
    expect(connections).toBe(0);
  });

  it('leaves the gateway serving: a valid envelope afterwards reaches the upstream', async () => {
    const res = await post('/soap', envelope('<secretId>1</secretId>'), XML11);
    expect(res.status).toBe(200);
    expect(connections).toBe(1);
  });
});
