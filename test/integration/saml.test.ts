import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSamlAssertion, mintSamlAssertion, newSamlKeys } from '../../demo/src/saml-assertion.js';
import { startDemoSoapService, type DemoSoapService } from '../../demo/src/soap-service.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// soap.tokenType saml2: the route's token is a signed SAML 2.0 assertion got by token
// exchange (requested_token_type saml2) from the demo IdP's grant; the gateway writes the
// assertion element into wsse:Security exactly as issued, and the demo SOAP service verifies
// its signature (xml-crypto) and audience and answers with the subject.

const AUDIENCE = 'urn:bff-gateway:demo:soap';
const SAML2 = 'urn:ietf:params:oauth:token-type:saml2';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const NS = 'urn:bff-gateway:demo:secrets';
const keys = newSamlKeys();

let redis: TestRedis;
let idp: TestIdp;
let soap: DemoSoapService;
let capture: TestUpstream;
let gw: TestGateway;
let cookie: string;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({
    accessTokenTtl: 3600,
    exchangeAudiences: [AUDIENCE],
    saml: (subject, audience, lifetime) => mintSamlAssertion(keys, 'urn:bff-gateway:demo:idp', subject, audience, lifetime),
  });
  soap = await startDemoSoapService({ issuer: idp.issuer, saml: { publicKeyPem: keys.publicKeyPem, audience: AUDIENCE } });
  capture = await startUpstream();
  const saml = { soap: { inject: 'wsse', tokenType: 'saml2' }, exchange: { audience: AUDIENCE, requestedTokenType: SAML2 } };
  gw = await startGateway({
    idp,
    store: redis.url,
    routes: [
      { prefix: '/legacy', upstream: soap.url, ...saml },
      { prefix: '/captured', upstream: capture.url, ...saml },
    ],
  });
  ({ sessionCookie: cookie } = await loginThroughGateway(gw.url));
});

afterAll(async () => {
  await gw?.close();
  await capture?.close();
  await soap?.close();
  await idp?.close();
  await redis?.close();
});

const whoAmI = `<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header/><soap:Body><s:WhoAmI xmlns:s="${NS}"/></soap:Body></soap:Envelope>`;
const post = (path: string, body = whoAmI) =>
  call(`${gw.url}${path}`, cookie, { method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${NS}/WhoAmI"` } });

describe('SAML 2.0 assertions for SOAP backends', () => {
  it('writes the exchanged assertion into wsse:Security; the SOAP service verifies it and names the subject', async () => {
    const res = await post('/legacy');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Subject>alice</Subject>');
    expect(res.body).toContain('wsse-saml');
  });

  it('sends the assertion as XML inside wsse:Security, signature intact, and no Authorization header', async () => {
    capture.seen.length = 0;
    expect((await post('/captured')).status).toBe(200);
    const seen = capture.seen.at(-1)!;
    expect(seen.headers.authorization).toBeUndefined();
    const body = seen.body.toString('utf8');
    expect(body).toMatch(/<soap:Header><wsse:Security xmlns:wsse="[^"]+"><saml2:Assertion /);
    expect(checkSamlAssertion(body, keys.publicKeyPem, AUDIENCE)).toEqual({ subject: 'alice' });
    // one character changed and the signature no longer holds
    const forged = body.replace('>alice</saml2:NameID>', '>admin</saml2:NameID>');
    expect(forged).not.toBe(body);
    expect(checkSamlAssertion(forged, keys.publicKeyPem, AUDIENCE)).toMatchObject({ invalid: expect.any(String) });
    expect(checkSamlAssertion(body, keys.publicKeyPem, 'urn:another')).toMatchObject({ invalid: expect.any(String) });
  });
});
