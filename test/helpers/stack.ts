import { startGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';
import { startTestIdp, type TestIdp, type TestIdpOptions } from './idp.js';
import { startRedis, type TestRedis } from './redis.js';
import { startUpstream, type TestUpstream } from './upstream.js';

// The usual set for an integration test: a real Redis, the test IdP, one upstream, and a
// gateway in front of them. `routes` may use the upstream's URL through the callback.

export interface Stack {
  redis: TestRedis;
  idp: TestIdp;
  upstream: TestUpstream;
  gw: TestGateway;
  close(): Promise<void>;
}

export async function startStack(opts: {
  idp?: TestIdpOptions;
  redis?: { persist?: boolean; mustControl?: boolean };
  routes: (upstreamUrl: string) => Record<string, unknown>[];
  gateway?: Omit<TestGatewayOptions, 'idp' | 'store' | 'routes'>;
}): Promise<Stack> {
  const redis = await startRedis(opts.redis);
  const idp = await startTestIdp(opts.idp);
  const upstream = await startUpstream();
  const gw = await startGateway({ idp, store: redis.url, routes: opts.routes(upstream.url), ...opts.gateway });
  return {
    redis,
    idp,
    upstream,
    gw,
    async close() {
      await gw.close();
      await upstream.close();
      await idp.close();
      await redis.close();
    },
  };
}
