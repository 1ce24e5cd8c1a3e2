import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSoapService, type DemoSoapService } from '../../demo/src/soap-service.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, SERVICE_USER, startTestIdp, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

// The demo SOAP service behind the gateway, as `npm start` wires it: the envelope the
// caller sends carries no token; the gateway writes the session's access token (or a
// token source's) into it, and the service names whose token arrived.

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const NS = 'urn:bff-gateway:demo:secrets';

let redis: TestRedis;
let idp: TestIdp;
let soap: DemoSoapService;
let gw: TestGateway;
let cookie: string;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  soap = await startDemoSoapService({ issuer: idp.issuer });
  gw = await startGateway({
    idp,
    store: redis.url,
    config: {
      tokenSources: {
        'secret-server': {
          tokenEndpoint: `${idp.issuer}/token`, grant: 'password', scope: 'openid',
          username: SERVICE_USER.username, password: SERVICE_USER.password,
          clientId: SERVICE_CLIENT_ID, clientSecret: SERVICE_CLIENT_SECRET,
        },
      },
    },
    routes: [
      { prefix: '/soap', upstream: soap.url, token: 'session', soap: { inject: 'body', element: 'token' } },
      { prefix: '/soap-wsse', upstream: soap.url, token: 'session', soap: { inject: 'wsse' } },
      { prefix: '/soap-service', upstream: soap.url, token: 'secret-server', soap: { inject: 'body', element: 'token' } },
    ],
  });
  ({ sessionCookie: cookie } = await loginThroughGateway(gw.url));
});

afterAll(async () => {
  await gw?.close();
  await soap?.close();
  await idp?.close();
  await redis?.close();
});

const VERSIONS = [
  { version: '1.1', ns: SOAP11, contentType: 'text/xml; charset=utf-8' },
  { version: '1.2', ns: SOAP12, contentType: 'application/soap+xml; charset=utf-8' },
] as const;

const envelope = (ns: string, operation: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="${ns}"><soap:Body>${operation}</soap:Body></soap:Envelope>`;
const getSecret = `<GetSecret xmlns="${NS}"><secretId>7</secretId></GetSecret>`;
const field = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

async function post(path: string, contentType: string, body: string) {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, 'x-csrf': '1', cookie }, body });
  return { status: res.status, text: await res.text() };
}

describe.each(VERSIONS)('the demo SOAP service through the gateway, SOAP $version', (v) => {
  it('GetSecret gets the session token written into the Body', async () => {
    const res = await post('/soap', v.contentType, envelope(v.ns, getSecret));
    expect(res.status).toBe(200);
    expect(field(res.text, 'Subject')).toBe('alice');
    expect(field(res.text, 'SecretId')).toBe('7');
  });

  it('WhoAmI gets the session token as a wsse:BinarySecurityToken', async () => {
    const res = await post('/soap-wsse', v.contentType, envelope(v.ns, `<WhoAmI xmlns="${NS}"/>`));
    expect(res.status).toBe(200);
    expect(field(res.text, 'Subject')).toBe('alice');
    expect(field(res.text, 'TokenLocation')).toBe('wsse');
  });

  it('a token-source route writes the service account token instead', async () => {
    const res = await post('/soap-service', v.contentType, envelope(v.ns, getSecret));
    expect(res.status).toBe(200);
    expect(field(res.text, 'Subject')).toBe(SERVICE_USER.claims.sub);
  });
});

describe('the demo SOAP service through the gateway', () => {
  it('passes GET ?wsdl through', async () => {
    const res = await fetch(`${gw.url}/soap?wsdl`, { headers: { 'x-csrf': '1', cookie } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('wsdl:definitions');
  });
});
