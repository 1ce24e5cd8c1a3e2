import { copyFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadTls } from '../../src/tls/reloads.js';
import { createPki, type TestPki } from '../helpers/certs.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startHttpsUpstream, type HttpsUpstream } from '../helpers/https-upstream.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';

// routes[].tls: https:// upstreams behind a private CA, with and without a client
// certificate. Every certificate problem is a quick 502 bad_gateway whose reason is in the
// log and not in the body; connections are reused; a reload swaps the client certificate.

let pki: TestPki;
let otherPki: TestPki;
let idp: TestIdp;
let gw: TestGateway;
const upstreams: HttpsUpstream[] = [];
let plain: HttpsUpstream;
let mutual: HttpsUpstream;

beforeAll(async () => {
  pki = createPki('Internal CA');
  otherPki = createPki('Other CA');
  const clientCert = pki.issue('gateway-client', { usage: 'client' });
  const foreignClient = otherPki.issue('foreign-client', { usage: 'client' });
  pki.issue('renewed-client', { usage: 'client' });
  plain = await startHttpsUpstream({ server: pki.issue('orders') });
  const expired = await startHttpsUpstream({ server: pki.issue('expired', { days: -1 }) });
  const misnamed = await startHttpsUpstream({ server: pki.issue('misnamed', { san: ['DNS:orders.internal'] }) });
  mutual = await startHttpsUpstream({ server: pki.issue('mtls'), clientCa: pki.caPem });
  upstreams.push(plain, expired, misnamed, mutual);
  // the route's client certificate files are copies, so the reload test can replace them
  copyFileSync(clientCert.cert, pki.path('route-client.crt'));
  copyFileSync(clientCert.key, pki.path('route-client.key'));
  const ca = pki.ca;
  idp = await startTestIdp();
  gw = await startGateway({
    idp,
    store: 'memory',
    routes: [
      { prefix: '/ok', upstream: plain.url, token: 'none', tls: { ca } },
      { prefix: '/default-trust', upstream: plain.url, token: 'none' },
      { prefix: '/wrong-ca', upstream: plain.url, token: 'none', tls: { ca: otherPki.ca } },
      { prefix: '/expired', upstream: expired.url, token: 'none', tls: { ca } },
      { prefix: '/mismatch', upstream: misnamed.url, token: 'none', tls: { ca } },
      { prefix: '/servername', upstream: misnamed.url, token: 'none', tls: { ca, servername: 'orders.internal' } },
      { prefix: '/mtls-without-cert', upstream: mutual.url, token: 'none', tls: { ca } },
      { prefix: '/mtls-foreign-cert', upstream: mutual.url, token: 'none', tls: { ca, cert: foreignClient.cert, key: foreignClient.key } },
      { prefix: '/mtls', upstream: mutual.url, token: 'none', tls: { ca, cert: pki.path('route-client.crt'), key: pki.path('route-client.key') } },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await idp?.close();
  for (const u of upstreams) await u.close();
  pki?.close();
  otherPki?.close();
});

async function get(path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${gw.url}${path}`);
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}

/** the causes of the "request failed" lines logged so far, in order */
function loggedCauses(): string[] {
  const lines = gw.logs.join('').split('\n').filter((l) => l.includes('"request failed"'));
  return lines.map((l) => (JSON.parse(l) as { cause?: string }).cause ?? '');
}

describe('https upstreams (routes[].tls)', () => {
  it('reaches an upstream whose certificate a private CA signed', async () => {
    const res = await get('/ok/orders/7');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ url: '/orders/7', clientCertificate: '' });
  });

  it.each([
    ['/default-trust', 'the private CA is not trusted by default', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/],
    ['/wrong-ca', 'another CA', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/],
    ['/expired', 'an expired certificate', /CERT_HAS_EXPIRED|expired/],
    ['/mismatch', 'a certificate for another name', /ERR_TLS_CERT_ALTNAME_INVALID|does not match/],
  ])('%s (%s): 502 bad_gateway at once, the reason in the log only', async (prefix, _what, reason) => {
    const logged = loggedCauses().length;
    const res = await get(`${prefix}/x`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({ error: 'bad_gateway' });
    expect(res.ms).toBeLessThan(10_000); // the route's timeout is 30 s: no hang
    await expect.poll(() => loggedCauses().length).toBe(logged + 1);
    expect(loggedCauses()[logged]).toMatch(reason);
  });

  it('checks the certificate against servername when one is set', async () => {
    const res = await get('/servername/x');
    expect(res.status).toBe(200);
  });

  it('presents the route\'s client certificate to an upstream that demands one (mutual TLS)', async () => {
    const res = await get('/mtls/x');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ clientCertificate: 'gateway-client' });
  });

  it.each(['/mtls-without-cert', '/mtls-foreign-cert'])('%s: the upstream refuses the handshake → 502, no hang', async (prefix) => {
    const res = await get(`${prefix}/x`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({ error: 'bad_gateway' });
    expect(res.ms).toBeLessThan(10_000);
  });

  it('reuses connections: many calls, few handshakes', async () => {
    const before = plain.handshakes();
    for (let i = 0; i < 30; i++) expect((await get('/ok/again')).status).toBe(200);
    expect(plain.handshakes() - before).toBeLessThanOrEqual(1);
  });

  it('presents a renewed client certificate after a reload, without failing a call', async () => {
    expect(JSON.parse((await get('/mtls/before')).body)).toMatchObject({ clientCertificate: 'gateway-client' });
    copyFileSync(pki.path('renewed-client.crt'), pki.path('route-client.crt'));
    copyFileSync(pki.path('renewed-client.key'), pki.path('route-client.key'));
    const during = Array.from({ length: 20 }, (_, i) => get(`/mtls/during-${i}`));
    const results = await reloadTls();
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    for (const res of await Promise.all(during)) expect(res.status).toBe(200);
    expect(JSON.parse((await get('/mtls/after')).body)).toMatchObject({ clientCertificate: 'renewed-client' });
  });
});
