import Fastify, { type FastifyServerOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { compileTrustProxy, upgradeOrigin } from '../../src/proxy/trust-proxy.js';

// One trust function for HTTP calls and upgrades (proxy/trust-proxy.ts): fastify given the
// compiled function must see each request as fastify given the setting itself does, and
// upgradeOrigin (for upgrades, which have no fastify request) must see it as fastify does.
// Every setting the configuration accepts, against peers and forwarding headers of each kind.

const SETTINGS: (boolean | string | number)[] = [false, true, 0, 2, '127.0.0.1', '10.0.0.0/8', '127.0.0.1,203.0.113.7', 'loopback, 10.0.0.0/8', '::1'];
const PEERS = ['127.0.0.1', '10.1.2.3', '198.51.100.4', '::1'];
const HEADERS: Record<string, string>[] = [
  {},
  { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'evil.example, app.example' },
  { 'x-forwarded-for': '203.0.113.7, 10.9.9.9', 'x-forwarded-proto': 'https' },
  { 'x-forwarded-host': 'app.example' },
];

type View = { ip: string; ips: string[] | undefined; protocol: string; host: string };

/** What a fastify app with this trustProxy reports for each peer and header set; `alsoUpgrade`: upgradeOrigin of the same raw request. */
async function views(trustProxy: FastifyServerOptions['trustProxy'], alsoUpgrade?: ReturnType<typeof compileTrustProxy>): Promise<View[][]> {
  const app = Fastify({ trustProxy });
  app.get('/', async (request) => {
    const fastifyView = { ip: request.ip, ips: request.ips, protocol: request.protocol, host: request.host };
    if (alsoUpgrade === undefined) return [fastifyView];
    const { ip, ips, protocol, host } = upgradeOrigin(request.raw, alsoUpgrade);
    return [fastifyView, { ip, ips, protocol, host }];
  });
  const out: View[][] = [];
  for (const remoteAddress of PEERS) {
    for (const headers of HEADERS) {
      const res = await app.inject({ url: '/', remoteAddress, headers: { host: 'gw.example:8080', ...headers } });
      out.push(res.json<View[]>());
    }
  }
  await app.close();
  return out;
}

describe('server.trustProxy compiled once', () => {
  it.each(SETTINGS.map((s) => [s]))('%s: fastify given the function sees what fastify given the setting sees, and so does an upgrade', async (setting) => {
    const compiled = compileTrustProxy(setting);
    // fastify accepts a hop count too, though its type does not say so
    const own = await views(setting as FastifyServerOptions['trustProxy']);
    const shared = await views(compiled, compiled);
    for (const [i, [viaFunction, viaUpgrade]] of shared.entries()) {
      expect(viaFunction).toEqual(own[i]![0]);
      expect(viaUpgrade).toEqual(viaFunction);
    }
  });

  it('the settings above are not all alike (the comparison can fail)', async () => {
    const off = await views(false);
    const on = await views(true);
    expect(on).not.toEqual(off);
  });
});
