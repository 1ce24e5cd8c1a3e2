import { startGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';
import { startTestIdp, type TestIdp, type TestIdpOptions } from './idp.js';
import { startInstances, type Instances } from './instances.js';
import { startRedis, type TestRedis } from './redis.js';
import { startUpstream, type TestUpstream } from './upstream.js';

// The usual sets for an integration test: a real Redis, the test IdP, one upstream, and in
// front of them one gateway (startStack) or several sharing the store (startCluster).
// `routes` may use the upstream's URL through the callback; the cluster's default is /api.

interface Backends {
  redis: TestRedis;
  idp: TestIdp;
  upstream: TestUpstream;
}

export interface Stack extends Backends {
  gw: TestGateway;
  close(): Promise<void>;
}

export interface Cluster extends Backends {
  instances: Instances;
  close(): Promise<void>;
}

interface StackOptions {
  idp?: TestIdpOptions;
  redis?: { persist?: boolean; mustControl?: boolean };
  gateway?: Omit<TestGatewayOptions, 'idp' | 'store' | 'routes'>;
}

async function startBackends(opts: StackOptions): Promise<Backends & { closeBackends(): Promise<void> }> {
  const redis = await startRedis(opts.redis);
  const idp = await startTestIdp(opts.idp);
  const upstream = await startUpstream();
  return {
    redis,
    idp,
    upstream,
    async closeBackends() {
      await upstream.close();
      await idp.close();
      await redis.close();
    },
  };
}

export async function startStack(opts: StackOptions & { routes: (upstreamUrl: string) => Record<string, unknown>[] }): Promise<Stack> {
  const { closeBackends, ...backends } = await startBackends(opts);
  const gw = await startGateway({ idp: backends.idp, store: backends.redis.url, routes: opts.routes(backends.upstream.url), ...opts.gateway });
  return {
    ...backends,
    gw,
    async close() {
      await gw.close();
      await closeBackends();
    },
  };
}

export async function startCluster(count: number, opts: StackOptions & { routes?: (upstreamUrl: string) => Record<string, unknown>[] } = {}): Promise<Cluster> {
  const { closeBackends, ...backends } = await startBackends(opts);
  const routes = opts.routes?.(backends.upstream.url) ?? [{ prefix: '/api', upstream: backends.upstream.url }];
  const instances = await startInstances(count, { idp: backends.idp, store: backends.redis.url, routes, ...opts.gateway });
  return {
    ...backends,
    instances,
    async close() {
      await instances.close();
      await closeBackends();
    },
  };
}
