import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFault } from '../fixtures/soap/fault-reader.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// soap.operations: an allow-list of the Body's first child. A refused operation (or an empty
// Body, or a SOAP action naming another operation) is a Fault of the request's version and
// the upstream, which counts what reaches it, sees nothing. Without the key, any operation
// passes as before (and body mode writes the token into it).

const SS = 'urn:thesecretserver.com';
const NS = { '1.1': 'http://schemas.xmlsoap.org/soap/envelope/', '1.2': 'http://www.w3.org/2003/05/soap-envelope' } as const;
const TYPE = { '1.1': 'text/xml; charset=utf-8', '1.2': 'application/soap+xml; charset=utf-8' } as const;
type Version = keyof typeof NS;

const envelope = (version: Version, body: string) =>
  `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS[version]}"><s:Body>${body}</s:Body></s:Envelope>`;
const op = (name: string, ns = SS) => `<ss:${name} xmlns:ss="${ns}"><ss:secretId>42</ss:secretId></ss:${name}>`;

let stack: Stack;
let gwUrl: string;
let cookie: string;

beforeAll(async () => {
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => {
      const soap = (inject: string, extra: Record<string, unknown> = {}) => ({ upstream: url, soap: { inject, ...extra } });
      const operations = ['GetSecret', `{${SS}}GetSecretsByFolder`];
      return [
        { prefix: '/ops/body', ...soap('body', { operations }) },
        { prefix: '/ops/wsse', ...soap('wsse', { operations }) },
        { prefix: '/ops/header', ...soap('header', { operations, element: `{urn:auth}Token` }) },
        { prefix: '/ops/open', ...soap('body', { operations }), token: 'none' },
        { prefix: '/any/body', ...soap('body') },
      ];
    },
  });
  gwUrl = stack.gw.url;
  ({ sessionCookie: cookie } = await loginThroughGateway(gwUrl));
});

afterAll(async () => stack?.close());

/** A POST, and how many requests reached the upstream meanwhile. */
async function post(path: string, body: string, version: Version, headers: Record<string, string> = {}) {
  const before = stack.upstream.seen.length;
  const res = await fetch(`${gwUrl}${path}`, {
    method: 'POST',
    headers: { 'x-csrf': '1', cookie, 'content-type': TYPE[version], ...headers },
    body,
  });
  const text = await res.text();
  return { res, text, forwarded: stack.upstream.seen.slice(before) };
}

function expectRefused(result: Awaited<ReturnType<typeof post>>, version: Version) {
  expect(result.forwarded).toHaveLength(0);
  expect(result.res.status).toBe(400);
  expect(result.res.headers.get('content-type')).toBe(`${version === '1.1' ? 'text/xml' : 'application/soap+xml'}; charset=utf-8`);
  const fault = readFault(result.text);
  expect(fault.envelopeNs).toBe(NS[version]);
  expect(fault.code).toBe(version === '1.1' ? 'soap:Client' : 'env:Sender');
  expect(fault.reason).toBe('soap_operation_not_allowed');
  expect(fault.detailCode).toBe('soap_operation_not_allowed');
}

describe.each(['1.1', '1.2'] as const)('soap.operations, SOAP %s', (version) => {
  it.each(['body', 'wsse', 'header', 'open'])('%s mode: a listed operation is forwarded once', async (mode) => {
    const result = await post(`/ops/${mode}`, envelope(version, op('GetSecret')), version);
    expect(result.res.status).toBe(200);
    expect(result.forwarded).toHaveLength(1);
    expect(result.forwarded[0]?.body.toString('utf8')).toContain('<ss:secretId>42</ss:secretId>');
  });

  it.each(['body', 'wsse', 'header', 'open'])('%s mode: another operation is a Fault and reaches nothing', async (mode) => {
    expectRefused(await post(`/ops/${mode}`, envelope(version, op('DeleteSecret')), version), version);
  });

  it('an empty Body (or one with text only) is refused', async () => {
    expectRefused(await post('/ops/body', envelope(version, ''), version), version);
    expectRefused(await post('/ops/body', envelope(version, '  <!-- GetSecret -->  '), version), version);
  });

  it('"{uri}local" names one namespace: the same local name in another is refused', async () => {
    const listed = await post('/ops/body', envelope(version, op('GetSecretsByFolder')), version);
    expect(listed.res.status).toBe(200);
    expect(listed.forwarded).toHaveLength(1);
    expectRefused(await post('/ops/body', envelope(version, op('GetSecretsByFolder', 'urn:other')), version), version);
  });

  it('a SOAP action naming another operation than the Body is refused; the same one or an empty one passes', async () => {
    const asAction = (name: string): Record<string, string> =>
      version === '1.1' ? { soapaction: `"${SS}/${name}"` } : { 'content-type': `${TYPE['1.2']}; action="${SS}/${name}"` };
    expectRefused(await post('/ops/body', envelope(version, op('GetSecret')), version, asAction('DeleteSecret')), version);
    const same = await post('/ops/body', envelope(version, op('GetSecret')), version, asAction('GetSecret'));
    expect(same.res.status).toBe(200);
    expect(same.forwarded).toHaveLength(1);
    const empty = await post('/ops/body', envelope(version, op('GetSecret')), version, { soapaction: '""' });
    expect(empty.res.status).toBe(200);
  });

  it('without soap.operations any operation passes, as before (body mode fills it with the token)', async () => {
    const result = await post('/any/body', envelope(version, op('DeleteSecret')), version);
    expect(result.res.status).toBe(200);
    expect(result.forwarded).toHaveLength(1);
    expect(result.forwarded[0]?.body.toString('utf8')).toMatch(/<ss:DeleteSecret xmlns:ss="[^"]+"><ss:token>[^<]{20,}<\/ss:token>/);
  });
});

it('the Fault speaks the envelope\'s version even when the Content-Type says the other', async () => {
  const result = await post('/ops/body', envelope('1.2', op('DeleteSecret')), '1.1');
  expect(result.forwarded).toHaveLength(0);
  expect(readFault(result.text).envelopeNs).toBe(NS['1.2']);
  expect(readFault(result.text).code).toBe('env:Sender');
});
