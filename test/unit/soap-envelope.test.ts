import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { MAX_ATTRIBUTES, MAX_DEPTH } from '../../src/soap/envelope.js';
import { prepareSoapBody } from '../../src/soap/prepare.js';
import { soapConfig } from '../fixtures/soap/cases.js';

// What is refused, and with which error: every refusal is a GatewayError with a stable code.

const ENV11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ENV12 = 'http://www.w3.org/2003/05/soap-envelope';
const env = (inner: string, ns = ENV11) => `<s:Envelope xmlns:s="${ns}">${inner}</s:Envelope>`;

function refusal(body: string | Buffer, opts: { contentType?: string; mode?: 'wsse' | 'header' | 'body'; version?: '1.1' | '1.2' } = {}): GatewayError {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const soap = soapConfig(opts.mode ?? 'body', { version: opts.version ?? 'auto', maxBytes: 64 * 1024 });
  try {
    prepareSoapBody(bytes, opts.contentType, soap, 'token');
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('the body was accepted');
}

const invalid: [string, string | Buffer][] = [
  ['an empty body', ''],
  ['JSON', '{"a":1}'],
  ['a root that is not Envelope', `<s:Body xmlns:s="${ENV11}"/>`],
  ['an Envelope in another namespace', '<s:Envelope xmlns:s="urn:not-soap"><s:Body/></s:Envelope>'],
  ['an Envelope without namespace', '<Envelope><Body/></Envelope>'],
  ['no Body', env('<s:Header/>')],
  ['a self-closing Envelope', `<s:Envelope xmlns:s="${ENV11}"/>`],
  ['two Bodies', env('<s:Body/><s:Body/>')],
  ['two Headers', env('<s:Header/><s:Header/><s:Body/>')],
  ['a Header after the Body', env('<s:Body/><s:Header/>')],
  ['another element before the Body', env('<x:Y xmlns:x="urn:x"/><s:Body/>')],
  ['a Body in the other SOAP namespace', `<s:Envelope xmlns:s="${ENV11}" xmlns:t="${ENV12}"><t:Body/></s:Envelope>`],
  ['unclosed tags', env('<s:Body><Op>')],
  ['mismatched tags', env('<s:Body><Op></Po></s:Body>')],
  ['text after the root', `${env('<s:Body/>')}junk`],
  ['two roots', `${env('<s:Body/>')}${env('<s:Body/>')}`],
  ['an unbound prefix', env('<s:Body><x:Op/></s:Body>')],
  ['an undefined entity (XXE without DTD)', env('<s:Body><Op>&xxe;</Op></s:Body>')],
  ['a DOCTYPE without subset', `<!DOCTYPE s:Envelope>${env('<s:Body/>')}`],
  ['an external entity', `<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${env('<s:Body><Op>&xxe;</Op></s:Body>')}`],
  ['a parameter entity', `<!DOCTYPE s:Envelope [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>${env('<s:Body/>')}`],
  ['a DOCTYPE after a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`<!DOCTYPE x>${env('<s:Body/>')}`)])],
  ['a DOCTYPE in UTF-16', Buffer.from(`\uFEFF<!DOCTYPE x>${env('<s:Body/>')}`, 'utf16le')],
  ['invalid UTF-8', Buffer.concat([Buffer.from(env('<s:Body><Op>')), Buffer.from([0xc3, 0x28]), Buffer.from('</Op></s:Body>')])],
  ['an odd-length UTF-16 body', Buffer.from([0xff, 0xfe, 0x3c])],
  ['an unsupported encoding', `<?xml version="1.0" encoding="Shift_JIS"?>${env('<s:Body/>')}`],
  ['a control character', env('<s:Body><Op>\u0001</Op></s:Body>')],
  ['body mode without an operation', env('<s:Body>  </s:Body>')],
  ['a duplicate attribute', env('<s:Body><Op a="1" a="2"/></s:Body>')],
  ['a namespace-less xmlns prefix misuse', env('<s:Body><Op xmlns:xmlns="urn:x"/></s:Body>')],
];

describe('refused envelopes: 400 invalid_soap_envelope', () => {
  it.each(invalid)('%s', (_name, body) => {
    const error = refusal(body);
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_soap_envelope');
    expect(error.description).toBeTruthy();
  });

  it('names the DOCTYPE as the reason', () => {
    expect(refusal(`<!DOCTYPE s:Envelope>${env('<s:Body/>')}`).description).toMatch(/DOCTYPE/);
  });

  it('refuses nesting deeper than the limit, and accepts it at the limit', () => {
    const nest = (levels: number) => env(`<s:Body>${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</s:Body>`);
    expect(refusal(nest(MAX_DEPTH)).description).toMatch(/deeper/);
    expect(() => prepareSoapBody(Buffer.from(nest(MAX_DEPTH - 2)), undefined, soapConfig('wsse'), 't')).not.toThrow();
  });

  it('refuses more attributes than the limit on one element', () => {
    const attributes = Array.from({ length: MAX_ATTRIBUTES + 1 }, (_, i) => `a${i}="v"`).join(' ');
    expect(refusal(env(`<s:Body><Op ${attributes}/></s:Body>`)).description).toMatch(/attributes/);
  });

  it('refuses an envelope of the other version on a route with a fixed version', () => {
    const error = refusal(env('<s:Body><Op/></s:Body>', ENV12), { version: '1.1' });
    expect(error.code).toBe('invalid_soap_envelope');
    expect(error.description).toMatch(/1\.2 envelope on a SOAP 1\.1 route/);
  });

  it('refuses a body over maxBytes with 413 payload_too_large', () => {
    const error = refusal(env(`<s:Body><Op>${'x'.repeat(70 * 1024)}</Op></s:Body>`));
    expect(error.status).toBe(413);
    expect(error.code).toBe('payload_too_large');
  });

  it('does not expand anything: billion laughs is refused at once', () => {
    const entities = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)];
    const started = Date.now();
    const error = refusal(`<?xml version="1.0"?><!DOCTYPE lolz [${entities.join('')}]>${env('<s:Body><Op>&lol9;</Op></s:Body>')}`);
    expect(error.code).toBe('invalid_soap_envelope');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('hostile but well-formed input is handled in bounded time', () => {
  it('parses 60 KB of numeric character references in well under a second and forwards them untouched', () => {
    const flood = '&#65;'.repeat(12_000);
    const xml = Buffer.from(env(`<s:Body><Op>${flood}</Op></s:Body>`));
    const started = Date.now();
    const out = prepareSoapBody(xml, undefined, soapConfig('wsse', { maxBytes: 64 * 1024 }), 't').body;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(out.toString('utf8')).toContain(flood);
  });
});
