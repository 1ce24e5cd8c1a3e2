import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSoapService, type DemoSoapService } from '../../demo/src/soap-service.js';
import { ALICE, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, startTestIdp, type TestIdp } from '../helpers/idp.js';

// The demo SOAP service on its own (no gateway): SOAP 1.1 and 1.2, the token in the Body
// (GetSecret) or as a wsse:BinarySecurityToken (WhoAmI), checked at the test IdP.

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const NS = 'urn:bff-gateway:demo:secrets';

let idp: TestIdp;
let soap: DemoSoapService;
let token: string;

beforeAll(async () => {
  idp = await startTestIdp();
  soap = await startDemoSoapService({ issuer: idp.issuer });
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT_ID}:${SERVICE_CLIENT_SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'password', username: ALICE.username, password: ALICE.password, scope: 'openid' }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  await soap?.close();
  await idp?.close();
});

const VERSIONS = [
  { version: '1.1', ns: SOAP11, prefix: 'SOAP-ENV', contentType: 'text/xml; charset=utf-8' },
  { version: '1.2', ns: SOAP12, prefix: 's', contentType: 'application/soap+xml; charset=utf-8' },
] as const;
type Version = (typeof VERSIONS)[number];

const envelope = (v: Version, body: string, header = '') =>
  `<?xml version="1.0"?>\n<${v.prefix}:Envelope xmlns:${v.prefix}="${v.ns}">`
  + `${header ? `<${v.prefix}:Header>${header}</${v.prefix}:Header>` : ''}`
  + `<${v.prefix}:Body>${body}</${v.prefix}:Body></${v.prefix}:Envelope>`;
const getSecret = (tokenXml: string) => `<GetSecret xmlns="${NS}"><!-- the token --><token>${tokenXml}</token><secretId>42</secretId></GetSecret>`;
const wsse = (value: string) =>
  `<wsse:Security xmlns:wsse="${WSSE}"><wsse:BinarySecurityToken ValueType="urn:ietf:params:oauth:token-type:jwt">${value}</wsse:BinarySecurityToken></wsse:Security>`;
const whoAmI = `<d:WhoAmI xmlns:d="${NS}"/>`;

async function post(v: Version, xml: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(soap.url, { method: 'POST', headers: { 'content-type': v.contentType }, body: xml });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const field = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

describe.each(VERSIONS)('the demo SOAP service, SOAP $version', (v) => {
  it('GetSecret: checks the token of the Body and names its subject', async () => {
    const res = await post(v, envelope(v, getSecret(token)));
    expect(res.status).toBe(200);
    expect(res.type).toBe(v.contentType);
    expect(res.text).toContain(`xmlns:soap="${v.ns}"`);
    expect(field(res.text, 'Subject')).toBe('alice');
    expect(field(res.text, 'TokenReceived')).toBe('true');
    expect(field(res.text, 'SecretId')).toBe('42');
    expect(res.text).not.toContain(token);
  });

  it('GetSecret: reads a token in CDATA too', async () => {
    const res = await post(v, envelope(v, getSecret(`<![CDATA[${token}]]>`)));
    expect(field(res.text, 'Subject')).toBe('alice');
  });

  it('WhoAmI: checks the base64 wsse:BinarySecurityToken of the Header', async () => {
    const res = await post(v, envelope(v, whoAmI, wsse(Buffer.from(token).toString('base64'))));
    expect(res.status).toBe(200);
    expect(field(res.text, 'Subject')).toBe('alice');
    expect(field(res.text, 'TokenLocation')).toBe('wsse');
    expect(res.text).not.toContain(token);
  });

  it('answers a Fault for an invalid token, without echoing it', async () => {
    const forged = 'forged-token-value-0123456789';
    for (const xml of [envelope(v, getSecret(forged)), envelope(v, whoAmI, wsse(Buffer.from(forged).toString('base64')))]) {
      const res = await post(v, xml);
      expect(res.status).toBe(v.version === '1.2' ? 400 : 500);
      expect(res.type).toBe(v.contentType);
      expect(res.text).toMatch(v.version === '1.2' ? /<soap:Value>soap:Sender<\/soap:Value>/ : /<faultcode>soap:Client<\/faultcode>/);
      expect(res.text).toContain('not valid');
      expect(res.text).not.toContain(forged);
    }
  });

  it('answers a Fault when the token is missing', async () => {
    for (const xml of [envelope(v, `<GetSecret xmlns="${NS}"><secretId>1</secretId></GetSecret>`), envelope(v, whoAmI)]) {
      const res = await post(v, xml);
      expect(res.status).toBe(v.version === '1.2' ? 400 : 500);
      expect(res.text).toContain('no token');
    }
  });
});

describe('the demo SOAP service', () => {
  it('answers GET ?wsdl with a WSDL of both bindings', async () => {
    const res = await fetch(`${soap.url}/SecretsService.asmx?wsdl`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/xml');
    const wsdl = await res.text();
    new SaxesParser({ xmlns: true }).write(wsdl).close(); // well-formed (throws otherwise)
    for (const part of ['wsdl:definitions', 'soap:binding', 'soap12:binding', 'name="GetSecret"', 'name="WhoAmI"']) {
      expect(wsdl).toContain(part);
    }
    expect(wsdl).toContain(`location="${soap.url}/SecretsService.asmx"`);
  });

  it('refuses a DOCTYPE, a non-envelope and malformed XML with a SOAP 1.1 Fault', async () => {
    const v = VERSIONS[0];
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${envelope(v, getSecret('&e;')).replace(/^<\?xml[^>]*>\n/, '')}`;
    for (const xml of [xxe, '<notSoap/>', `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}"><SOAP-ENV:Body>`]) {
      const res = await post(v, xml);
      expect(res.status).toBe(500);
      expect(res.text).toContain('<faultcode>soap:Client</faultcode>');
      expect(res.text).not.toContain('root:');
    }
  });

  it('answers 413 with a Fault to a body over 1 MiB', async () => {
    const res = await post(VERSIONS[0], envelope(VERSIONS[0], getSecret('x'.repeat(1024 * 1024))));
    expect(res.status).toBe(413);
    expect(res.text).toContain('<faultcode>soap:Client</faultcode>');
  });

  it('answers a Receiver Fault (503) while the identity provider cannot be asked', async () => {
    const v = VERSIONS[1];
    await idp.stopListening();
    try {
      const res = await post(v, envelope(v, getSecret(token)));
      expect(res.status).toBe(503);
      expect(res.text).toMatch(/<soap:Value>soap:Receiver<\/soap:Value>/);
    } finally {
      await idp.resumeListening();
    }
    expect((await post(v, envelope(v, getSecret(token)))).status).toBe(200);
  });

  it('answers 405 to other methods', async () => {
    const res = await fetch(soap.url, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(405);
  });
});
