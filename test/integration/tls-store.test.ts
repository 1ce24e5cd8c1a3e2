import { copyFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadTls } from '../../src/tls/reloads.js';
import { createPki, type CertFiles, type TestPki } from '../helpers/certs.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startTlsCluster, startTlsRedis, startTlsSentinel, type TlsRedis } from '../helpers/redis-tls.js';

// store.tls: Redis over TLS (rediss://) with a private CA and a client certificate, against
// Debian's redis-server with --tls-port. A store the gateway cannot trust, or one that
// refuses the gateway's certificate, is a quick 503 session_store_unavailable.

let pki: TestPki;
let otherPki: TestPki;
let redis: TlsRedis;
let idp: TestIdp;
let client: CertFiles;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  pki = createPki('Redis CA');
  otherPki = createPki('Other CA');
  client = pki.issue('bff-redis-client', { usage: 'client' });
  redis = await startTlsRedis(pki, { authClients: true });
  idp = await startTestIdp({ accessTokenTtl: 3600 });
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await idp?.close();
  await redis?.close();
  pki?.close();
  otherPki?.close();
});

async function gatewayWith(tls: Record<string, string>): Promise<TestGateway> {
  const gw = await startGateway({ idp, store: redis.url, routes: [], config: { store: { tls } } });
  gateways.push(gw);
  return gw;
}

describe('Redis over TLS (store.tls)', () => {
  it('keeps sessions in a Redis that demands TLS and a client certificate', async () => {
    const gw = await gatewayWith({ ca: pki.ca, cert: client.cert, key: client.key });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const user = await fetch(`${gw.url}/auth/user`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(user.status).toBe(200);
    // the session is in that Redis (seen through its plain port)
    const inspect = redis.node.client();
    expect((await inspect.keys('bff:s:*')).length).toBeGreaterThan(0);
  });

  it.each([
    ['a store certificate from another CA', () => ({ ca: otherPki.ca, cert: client.cert, key: client.key })],
    ['no client certificate', () => ({ ca: pki.ca })],
  ])('%s: 503 session_store_unavailable at once, never a hang', async (_what, tls) => {
    const good = gateways[0]!;
    const { sessionCookie } = await loginThroughGateway(good.url);
    const gw = await gatewayWith(tls());
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    const started = Date.now();
    const res = await fetch(`${gw.url}/auth/user`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'session_store_unavailable' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a reload (SIGHUP) applies the new files to the next connection, and the open one is left alone', async () => {
    copyFileSync(pki.ca, pki.path('store-ca.pem'));
    const gw = await gatewayWith({ ca: pki.path('store-ca.pem'), cert: client.cert, key: client.key });
    const ready = async () => (await fetch(`${gw.url}/readyz`)).status;
    expect(await ready()).toBe(200);
    copyFileSync(otherPki.ca, pki.path('store-ca.pem'));
    await reloadTls();
    expect(await ready()).toBe(200); // the open connection carries on
    const inspect = redis.node.client();
    await inspect.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    // reconnecting with the new (wrong) CA fails, however long it tries
    await new Promise((r) => setTimeout(r, 1_500));
    for (let i = 0; i < 3; i++) {
      expect(await ready()).toBe(503);
      await new Promise((r) => setTimeout(r, 300));
    }
    copyFileSync(pki.ca, pki.path('store-ca.pem'));
    await reloadTls();
    await expect.poll(ready, { timeout: 10_000 }).toBe(200);
  });

  it('works through Sentinel over TLS (sentinels and data nodes)', async () => {
    const sentinel = await startTlsSentinel(pki);
    try {
      const gw = await startGateway({
        idp,
        store: 'memory',
        routes: [],
        config: { store: { url: null, sentinel: { name: sentinel.name, nodes: sentinel.nodes }, tls: { ca: pki.ca } } },
      });
      gateways.push(gw);
      await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      const { sessionCookie } = await loginThroughGateway(gw.url);
      const user = await fetch(`${gw.url}/auth/user`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
      expect(user.status).toBe(200);
    } finally {
      await gateways.pop()?.close();
      await sentinel.close();
    }
  });

  it('works with a Redis Cluster over TLS (every node, and the cluster bus)', async () => {
    const cluster = await startTlsCluster(pki);
    try {
      const gw = await startGateway({
        idp,
        store: 'memory',
        routes: [],
        config: { store: { url: null, cluster: { nodes: cluster.nodes }, tls: { ca: pki.ca } } },
      });
      gateways.push(gw);
      await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      for (let i = 0; i < 3; i++) {
        // several sessions: they land in different slots, so on different nodes
        const { sessionCookie } = await loginThroughGateway(gw.url);
        const user = await fetch(`${gw.url}/auth/user`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
        expect(user.status).toBe(200);
      }
    } finally {
      await gateways.pop()?.close();
      await cluster.close();
    }
  });
});
