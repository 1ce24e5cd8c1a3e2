import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CASES, MODES, expectedBytes, expectedForClientTokens, fixture, soapConfig, type EnvelopeCase, type Mode,
} from '../fixtures/soap/cases.js';
import { readFault } from '../fixtures/soap/fault-reader.js';
import { freePort } from '../helpers/free-port.js';
import { loginThroughGateway } from '../helpers/login.js';
import { peekSession } from '../helpers/session-peek.js';
import { startStack, type Stack } from '../helpers/stack.js';

// SOAP routes through a gateway with a real session: the upstream receives exactly the
// client's bytes plus the session's access token, headers pass through, WSDL GETs pass with
// the bearer token, and every error is a Fault in the request's version.

let stack: Stack;
let upstream: Stack['upstream'];
let gwUrl: string;
let cookie: string;
let accessToken: string;

const soapRoute = (prefix: string, upstream: string, mode: Mode, extra: Record<string, unknown> = {}) => {
  const { inject, element } = soapConfig(mode);
  return { prefix, upstream, rewritePrefix: '/SSWebService.asmx', soap: { inject, element, ...extra } };
};

beforeAll(async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [
      { prefix: '/api', upstream: url },
      soapRoute('/soap/wsse', url, 'wsse'),
      soapRoute('/soap/header', url, 'header'),
      soapRoute('/soap/body', url, 'body'),
      soapRoute('/soap/v12', url, 'body', { version: '1.2' }),
      soapRoute('/soap/small', url, 'body', { maxBytes: '2kb' }),
      { ...soapRoute('/soap/open', url, 'body'), token: 'none' },
      soapRoute('/soap/dead', dead, 'body'),
      { ...soapRoute('/soap/slow', url, 'body'), timeout: '300ms' },
    ],
  });
  ({ upstream } = stack);
  gwUrl = stack.gw.url;
  ({ sessionCookie: cookie } = await loginThroughGateway(gwUrl));
  const rest = await fetch(`${gwUrl}/api/whoami`, { headers: { 'x-csrf': '1', cookie } });
  expect(rest.status).toBe(200);
  accessToken = String(upstream.seen.at(-1)?.headers.authorization).replace(/^Bearer /, '');
});

afterAll(async () => stack?.close());
beforeEach(() => upstream.respond(undefined));

const CONTENT_TYPE = {
  '1.1': 'text/xml; charset=utf-8',
  '1.2': 'application/soap+xml; charset=utf-8; action="urn:thesecretserver.com/GetSecret"',
} as const;

/** fetch takes bytes as a plain Uint8Array */
const bytes = (body: Buffer | string): string | Uint8Array<ArrayBuffer> => (typeof body === 'string' ? body : new Uint8Array(body));

async function post(path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const before = upstream.seen.length;
  const res = await fetch(`${gwUrl}${path}`, { method: 'POST', headers: { 'x-csrf': '1', cookie, ...headers }, body: bytes(body) });
  const text = await res.text();
  return { res, text, seen: upstream.seen.length > before ? upstream.seen.at(-1) : undefined };
}

describe('the token the upstream finds', () => {
  it('is the session\'s access token, the one REST routes send as Bearer', async () => {
    const session = await peekSession(stack.redis.client(), cookie);
    expect(accessToken).toBe(session?.tokens.accessToken);
    expect(accessToken.length).toBeGreaterThan(20);
  });
});

describe.each(MODES)('injection through the gateway: %s', (mode) => {
  it.each(CASES.map((c) => [c.file, c] as [string, EnvelopeCase]))('%s', async (_file, c) => {
    const original = fixture(c.file);
    const headers = { 'content-type': CONTENT_TYPE[c.version], ...(c.version === '1.1' ? { soapaction: '"urn:thesecretserver.com/GetSecret"' } : {}) };
    const { res, seen } = await post(`/soap/${mode}`, original, headers);
    expect(res.status).toBe(200);
    const expected = expectedBytes(c, original, mode, accessToken);
    expect(seen?.body.toString('utf8')).toBe(expected.toString('utf8'));
    expect(seen?.body.equals(expected)).toBe(true);
    expect(seen?.headers['content-length']).toBe(String(expected.length));
    expect(seen?.headers['content-type']).toBe(CONTENT_TYPE[c.version]);
    expect(seen?.headers.soapaction).toBe(headers.soapaction);
    expect(seen?.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(seen?.headers.cookie).toBeUndefined();
    expect(seen?.url).toBe('/SSWebService.asmx');
  });

  it('replaces the token-bearing elements the client sent', async () => {
    const original = fixture('soap11-client-tokens.xml');
    const { seen } = await post(`/soap/${mode}`, original, { 'content-type': CONTENT_TYPE['1.1'] });
    expect(seen?.body.equals(expectedForClientTokens(original, mode, accessToken))).toBe(true);
    const clientToken = { wsse: 'Q0xJRU5U', header: '>client-token<', body: 'client<![CDATA[' }[mode];
    expect(original.toString('utf8')).toContain(clientToken);
    expect(seen?.body.toString('utf8')).not.toContain(clientToken);
  });
});

describe('SOAP routes, other traffic', () => {
  it('reads a chunked body (no Content-Length) and forwards it with one', async () => {
    const original = fixture('soap12-env-cdata.xml');
    const c = CASES.find((x) => x.file === 'soap12-env-cdata.xml')!;
    // a stream body goes chunked (undici's fetch takes a Node Readable with duplex: 'half')
    const body = Readable.from([original.subarray(0, 100), original.subarray(100)]) as unknown as BodyInit;
    const init = { method: 'POST', headers: { 'x-csrf': '1', cookie, 'content-type': CONTENT_TYPE['1.2'] }, body, duplex: 'half' };
    const res = await fetch(`${gwUrl}/soap/body`, init as RequestInit);
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1);
    expect(seen?.body.equals(expectedBytes(c, original, 'body', accessToken))).toBe(true);
    expect(seen?.headers['content-length']).toBe(String(seen?.body.length));
    expect(seen?.headers['transfer-encoding']).toBeUndefined();
  });

  it('passes a WSDL GET through untouched with the Authorization header', async () => {
    upstream.respond((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }); res.end('<wsdl:definitions/>'); });
    const res = await fetch(`${gwUrl}/soap/body?wsdl`, { headers: { 'x-csrf': '1', cookie, authorization: 'Bearer client-forged' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<wsdl:definitions/>');
    const seen = upstream.seen.at(-1);
    expect(seen?.method).toBe('GET');
    expect(seen?.url).toBe('/SSWebService.asmx?wsdl');
    expect(seen?.headers.authorization).toBe(`Bearer ${accessToken}`);
  });

  it('passes the upstream\'s answer (a Fault of its own) through as it is', async () => {
    const fault = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>upstream</faultstring></s:Fault></s:Body></s:Envelope>';
    upstream.respond((_req, res) => { res.writeHead(500, { 'content-type': 'text/xml; charset=utf-8' }); res.end(fault); });
    const { res, text } = await post('/soap/body', fixture('soap11-s-no-header.xml'), { 'content-type': CONTENT_TYPE['1.1'] });
    expect(res.status).toBe(500);
    expect(text).toBe(fault);
  });

  it('forwards the envelope untouched on a token: none route (checked all the same)', async () => {
    const original = fixture('soap11-client-tokens.xml');
    const { res, seen } = await post('/soap/open', original, { 'content-type': CONTENT_TYPE['1.1'], authorization: 'Basic dXNlcjpwdw==' });
    expect(res.status).toBe(200);
    expect(seen?.body.equals(original)).toBe(true);
    expect(seen?.headers.authorization).toBe('Basic dXNlcjpwdw==');
    const refused = await post('/soap/open', `<!DOCTYPE x>${original.toString('utf8')}`, { 'content-type': CONTENT_TYPE['1.1'] });
    expect(refused.res.status).toBe(400);
  });

  it('replays once with a refreshed token when the upstream answers 401 invalid_token', async () => {
    let calls = 0;
    upstream.respond((_req, res) => {
      calls++;
      if (calls === 1) { res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }); res.end(); return; }
      res.writeHead(200, { 'content-type': 'text/xml' }); res.end('<ok/>');
    });
    // a session of its own: the forced refresh rotates its tokens
    const own = (await loginThroughGateway(gwUrl)).sessionCookie;
    const before = upstream.seen.length;
    const res = await fetch(`${gwUrl}/soap/body`, { method: 'POST', headers: { 'x-csrf': '1', cookie: own, 'content-type': CONTENT_TYPE['1.1'] }, body: bytes(fixture('soap11-s-no-header.xml')) });
    expect(res.status).toBe(200);
    const [first, second] = upstream.seen.slice(before);
    const tokenIn = (body: Buffer | undefined) => /<ss:token>([^<]*)<\/ss:token>/.exec(body?.toString('utf8') ?? '')?.[1];
    expect(tokenIn(first?.body)).toBeTruthy();
    expect(tokenIn(second?.body)).toBeTruthy();
    expect(tokenIn(second?.body)).not.toBe(tokenIn(first?.body));
    expect(second?.headers.authorization).toBe(`Bearer ${tokenIn(second?.body)}`);
  });
});

describe('Faults through the gateway', () => {
  const expectFault = (res: Response, text: string, status: number, version: '1.1' | '1.2', code: string, faultcode: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe(version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
    const fault = readFault(text);
    expect(fault.reason).toBe(code);
    expect(fault.code).toBe(faultcode);
  };
  const body11 = fixture('soap11-s-no-header.xml');
  const body12 = fixture('soap12-env-cdata.xml');

  it('401 unauthenticated without a session, in the request\'s version', async () => {
    for (const [version, body, faultcode] of [['1.1', body11, 'soap:Client'], ['1.2', body12, 'env:Sender']] as const) {
      const res = await fetch(`${gwUrl}/soap/body`, { method: 'POST', headers: { 'x-csrf': '1', 'content-type': CONTENT_TYPE[version] }, body: bytes(body) });
      expectFault(res, await res.text(), 401, version, 'unauthenticated', faultcode);
    }
  });

  it('403 csrf_header_missing', async () => {
    const res = await fetch(`${gwUrl}/soap/body`, { method: 'POST', headers: { cookie, 'content-type': CONTENT_TYPE['1.2'] }, body: bytes(body12) });
    expectFault(res, await res.text(), 403, '1.2', 'csrf_header_missing', 'env:Sender');
  });

  it('400 for malformed XML and for the other version on a fixed-version route; 405 for PUT', async () => {
    const malformed = await post('/soap/body', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>', { 'content-type': CONTENT_TYPE['1.2'] });
    expectFault(malformed.res, malformed.text, 400, '1.2', 'invalid_soap_envelope', 'env:Sender');
    const wrongVersion = await post('/soap/v12', body11, { 'content-type': CONTENT_TYPE['1.1'] });
    expectFault(wrongVersion.res, wrongVersion.text, 400, '1.2', 'invalid_soap_envelope', 'env:Sender');
    const put = await fetch(`${gwUrl}/soap/body`, { method: 'PUT', headers: { 'x-csrf': '1', cookie, 'content-type': CONTENT_TYPE['1.1'] }, body: bytes(body11) });
    expectFault(put, await put.text(), 405, '1.1', 'method_not_allowed', 'soap:Client');
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('413 payload_too_large over maxBytes', async () => {
    const big = body11.toString('utf8').replace('<ss:secretId>42</ss:secretId>', `<ss:secretId>${'4'.repeat(4096)}</ss:secretId>`);
    const { res, text, seen } = await post('/soap/small', big, { 'content-type': CONTENT_TYPE['1.1'] });
    expectFault(res, text, 413, '1.1', 'payload_too_large', 'soap:Client');
    expect(seen).toBeUndefined();
  });

  it('502 bad_gateway and 504 gateway_timeout as soap:Server / env:Receiver', async () => {
    const dead = await post('/soap/dead', body12, { 'content-type': CONTENT_TYPE['1.2'] });
    expectFault(dead.res, dead.text, 502, '1.2', 'bad_gateway', 'env:Receiver');
    upstream.respond(async (_req, res) => { await new Promise((r) => setTimeout(r, 1_500)); res.end('late'); });
    const slow = await post('/soap/slow', body11, { 'content-type': CONTENT_TYPE['1.1'] });
    expectFault(slow.res, slow.text, 504, '1.1', 'gateway_timeout', 'soap:Server');
  });

  it('503 token_service_unavailable with Retry-After when the refresh fails', async () => {
    stack.idp.setAccessTokenTtl(30); // under refreshBefore (60 s): every call refreshes
    const { sessionCookie } = await loginThroughGateway(gwUrl);
    stack.idp.setAccessTokenTtl(3600);
    stack.idp.faults.setTokenEndpointFailure(503);
    try {
      const res = await fetch(`${gwUrl}/soap/body`, { method: 'POST', headers: { 'x-csrf': '1', cookie: sessionCookie, 'content-type': CONTENT_TYPE['1.2'] }, body: bytes(body12) });
      expectFault(res, await res.text(), 503, '1.2', 'token_service_unavailable', 'env:Receiver');
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      stack.idp.faults.setTokenEndpointFailure(null);
    }
  });
});
