import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';

// docker-compose.yml as docker-compose itself reads it (`docker-compose config`, with a copy
// of .env.example as the env file; there is no Docker engine here), then its wiring: every
// host config/docker.yaml names is a service, on the port that service listens on; health
// checks; the programs the Dockerfile and the services run exist in the build output.

const run = promisify(execFile);
const COMPOSE = '/usr/bin/docker-compose';

interface Service {
  image?: string;
  profiles?: string[];
  build?: string | { context?: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: (string | Port)[];
  healthcheck?: { test?: string[] };
  volumes?: (string | Volume)[];
  networks?: Record<string, { aliases?: string[] } | null>;
}

interface Port {
  published: string | number;
  target: string | number;
  host_ip?: string;
}

interface Volume {
  source?: string;
  target: string;
}

let dir: string;
let services: Record<string, Service>;
let gatewayNames: string[];
let config: GatewayConfig;

/** docker-compose with nothing from this process's environment but PATH and HOME. */
function compose(args: string[]) {
  return run(COMPOSE, ['-f', resolve('docker-compose.yml'), ...args], {
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    timeout: 30_000,
  });
}

// docker-compose 1.x prints ports and volumes in the short syntax, Compose v2 in the long one
function portsOf(s: Service | undefined): Port[] {
  return (s?.ports ?? []).map((p) => {
    if (typeof p !== 'string') return p;
    const [hostIp, published = '', target = ''] = p.replace(/\/tcp$/, '').split(':');
    return { host_ip: hostIp, published, target };
  });
}

function volumesOf(s: Service | undefined): Volume[] {
  return (s?.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const [source, target = ''] = v.split(':');
    return { source, target };
  });
}

const env = (service: string): Record<string, string> => services[service]?.environment ?? {};
const isGateway = (s: Service) => s.command?.join(' ').includes('dist/src/cli.js') === true;

/** The service a host name reaches: by service name or network alias. */
function serviceOf(host: string): string | undefined {
  return Object.entries(services).find(([name, s]) =>
    name === host || Object.values(s.networks ?? {}).some((n) => n?.aliases?.includes(host)))?.[0];
}

/** The port a service listens on: its PORT, or the image's well-known port. */
function listenPort(name: string): number | undefined {
  const s = services[name];
  if (s?.environment?.PORT) return Number(s.environment.PORT);
  if (s?.image?.startsWith('redis:')) return 6379;
  return undefined;
}

function urlPort(url: URL): number {
  return Number(url.port || { 'http:': 80, 'https:': 443, 'redis:': 6379 }[url.protocol]);
}

/** `node X.js …` → X.js, for every command and health check that runs node. */
function nodeScripts(command: string[] | undefined): string[] {
  if (!command) return [];
  const args = command[0] === 'CMD' ? command.slice(1) : command;
  return args[0] === 'node' && args[1] ? [args[1]] : [];
}

beforeAll(async () => {
  if (!existsSync(COMPOSE)) throw new Error('docker-compose is not installed (.ci/run installs it)');
  if (!existsSync('dist/src/cli.js')) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'bff-compose-'));
  copyFileSync('.env.example', join(dir, '.env'));
  const { stdout } = await compose(['--env-file', join(dir, '.env'), 'config']);
  services = (parse(stdout) as { services: Record<string, Service> }).services;
  gatewayNames = Object.keys(services).filter((name) => isGateway(services[name]!));
  const [first] = gatewayNames;
  config = parseConfig(readFileSync('config/docker.yaml', 'utf8'), { env: env(first ?? '') });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('has redis, two gateways behind one published port, the IdP, the REST API, the SOAP service and the page', () => {
    expect(Object.keys(services).filter((name) => !services[name]!.profiles).sort()).toEqual(
      ['gateway-1', 'gateway-2', 'idp', 'lb', 'redis', 'rest-api', 'soap-service', 'web'],
    );
    expect(gatewayNames).toEqual(['gateway-1', 'gateway-2']);
    expect(env('gateway-1')).toEqual(env('gateway-2'));
  });

  it('refuses to run without any one of the secrets of .env', async () => {
    const example = readFileSync('.env.example', 'utf8');
    for (const name of ['OIDC_CLIENT_SECRET', 'SESSION_SECRET', 'SESSION_KEY', 'ADMIN_TOKEN']) {
      const file = join(dir, `without-${name}.env`);
      writeFileSync(file, example.split('\n').filter((line) => !line.startsWith(`${name}=`)).join('\n'));
      const failed = await compose(['--env-file', file, 'config']).then(() => 'accepted', (e: { stderr: string }) => e.stderr);
      expect(failed).toContain(`set ${name} in .env`);
    }
  });

  it('gives every service a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name} has no health check`).toBeGreaterThan(1);
    }
  });

  it('has a tracing backend only with --profile tracing, and gateways that send no traces by default', () => {
    const jaeger = services.jaeger!;
    expect(jaeger.profiles).toEqual(['tracing']);
    expect(jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe('true'); // OTLP/HTTP on 4318
    for (const name of gatewayNames) {
      expect(env(name).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('');
      expect(env(name).OTEL_SERVICE_NAME).toBe('bff-gateway');
    }
  });

  it('keeps Redis persistent: append-only file on a named volume', () => {
    const redis = services.redis!;
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(volumesOf(redis)).toContainEqual(expect.objectContaining({ source: 'redis-data', target: '/data' }));
  });

  it('publishes the gateway (lb) on 8080 and the IdP on its issuer port, on loopback only', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      portsOf(s).map((p) => `${name} ${p.host_ip}:${p.published}->${p.target}`));
    expect(published.sort()).toEqual(['idp 127.0.0.1:9000->9000', 'jaeger 127.0.0.1:16686->16686', 'lb 127.0.0.1:8080->8080']);
    expect(urlPort(new URL(config.server.publicUrl))).toBe(8080);
  });

  it('balances over every gateway in the lb config, on the gateways\' port', () => {
    const lb = services.lb!;
    // a template the nginx image renders into /etc/nginx/conf.d/default.conf
    const conf = volumesOf(lb).find((v) => v.target === '/etc/nginx/templates/default.conf.template')?.source;
    expect(conf).toBe(resolve('config/nginx.conf'));
    const upstreams = [...readFileSync(conf!, 'utf8').matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(upstreams.sort()).toEqual(gatewayNames.map((name) => `${name}:${config.server.port}`));
    expect(config.server.host).toBe('0.0.0.0');
  });
});

describe("the lb's instance header (X-Gateway-Instance, internal addresses)", () => {
  it('is off by default, and LB_INSTANCE_HEADER=on in .env turns it on', async () => {
    expect(env('lb')).toMatchObject({ LB_INSTANCE_HEADER: 'off', NGINX_ENVSUBST_FILTER: 'LB_' });
    const file = join(dir, 'instance-header.env');
    writeFileSync(file, `${readFileSync('.env.example', 'utf8')}\nLB_INSTANCE_HEADER=on\n`);
    const { stdout } = await compose(['--env-file', file, 'config']);
    const lb = (parse(stdout) as { services: Record<string, Service> }).services.lb;
    expect(lb?.environment?.LB_INSTANCE_HEADER).toBe('on');
    // the template reads it, and sends the header only through the variable it sets
    const conf = readFileSync('config/nginx.conf', 'utf8');
    expect(conf).toMatch(/^map "\$\{LB_INSTANCE_HEADER\}" \$gateway_instance_header \{/m);
    expect([...conf.matchAll(/^\s*add_header\s+X-Gateway-Instance\s+(\S+)/gm)].map((m) => m[1])).toEqual(['$gateway_instance_header']);
    expect(conf).not.toMatch(/\$upstream_addr\s+always/);
  });
});

describe('config/docker.yaml in the compose network', () => {
  it('serves /metrics and /admin on an unpublished management port, which the gateways\' health check uses', () => {
    const management = config.server.management;
    expect(management).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(config.server.adminToken).toBeTruthy();
    expect(management!.port).not.toBe(config.server.port);
    for (const gateway of gatewayNames) {
      const s = services[gateway]!;
      expect(portsOf(s), `${gateway} publishes a port`).toEqual([]);
      expect(s.healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${management!.port}/readyz`);
    }
  });


  it('is valid with the environment compose gives the gateways', () => {
    const interpolated = [...readFileSync('config/docker.yaml', 'utf8').matchAll(/\$\{([A-Za-z_]\w*)\}/g)].map((m) => m[1]!);
    expect(interpolated.length).toBeGreaterThan(0);
    for (const gateway of gatewayNames) {
      for (const name of interpolated) expect(env(gateway)[name], `${gateway} lacks ${name}`).toBeTruthy();
    }
  });

  it('names only hosts that are services, on the ports they listen on', () => {
    const urls = [config.store.url!, config.oidc.issuer, ...config.routes.map((r) => r.upstream)].map((u) => new URL(u));
    expect(urls.length).toBeGreaterThanOrEqual(5);
    for (const url of urls) {
      const service = serviceOf(url.hostname);
      expect(service, `no service answers to ${url.hostname}`).toBeDefined();
      expect(listenPort(service!), `${url.href}: ${service} listens elsewhere`).toBe(urlPort(url));
    }
  });

  it('uses one issuer, client secret and public URL for the gateways, the IdP and the demo APIs', () => {
    const issuer = new URL(config.oidc.issuer);
    const idp = serviceOf(issuer.hostname)!;
    expect(env(idp).DEMO_ISSUER).toBe(config.oidc.issuer);
    // the browser reaches the issuer through the published port: the same number
    expect(portsOf(services[idp]).map((p) => Number(p.published))).toContain(urlPort(issuer));
    expect(env(idp).DEMO_CLIENT_SECRET).toBe(config.oidc.clientSecret);
    expect(env(idp).DEMO_PUBLIC_URL).toBe(config.server.publicUrl);
    for (const api of ['rest-api', 'soap-service']) expect(env(api).DEMO_ISSUER).toBe(config.oidc.issuer);
    const soapRoute = config.routes.find((r) => r.soap);
    expect(soapRoute).toBeDefined();
    expect(env('web').DEMO_SOAP_PATH).toBe(soapRoute?.prefix);
  });
});

/** The Dockerfile's stages by name (`FROM … AS name`), each its text up to the next FROM. */
function dockerStages(): Map<string, string> {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  return new Map(dockerfile.split(/^FROM\s/m).slice(1).map((stage) => [/^\S+\s+AS\s+(\S+)/i.exec(stage)?.[1] ?? '', stage]));
}

/** What a stage runs: its CMD and its HEALTHCHECK's (on the continuation line). */
function stageCommands(stage: string): string[][] {
  return [...stage.matchAll(/^\s*CMD\s+(\[.*\])\s*$/gm)].map((m) => JSON.parse(m[1]!) as string[]);
}

const targetOf = (s: Service) => (typeof s.build === 'object' ? s.build.target : undefined);

describe('the programs the containers run', () => {
  it('exist in the build output, and the demo parts are ones serve.js knows', async () => {
    const stages = dockerStages();
    const imageScripts = [...stages.values()].flatMap((stage) => stageCommands(stage).flatMap(nodeScripts));
    const scripts = [...imageScripts, ...Object.values(services).flatMap((s) => [s.command, s.healthcheck?.test]).flatMap(nodeScripts)];
    expect(scripts).toContain('dist/src/cli.js');
    expect(scripts).toContain('dist/src/healthcheck.js');
    expect(scripts).toContain('dist/demo/src/serve.js');
    for (const script of new Set(scripts)) expect(existsSync(script), `${script} is not built`).toBe(true);

    const usage = await run(process.execPath, ['dist/demo/src/serve.js'], { timeout: 10_000 }).then(
      () => '', (e: { stderr: string }) => e.stderr);
    const known = /<([\w|-]+)>/.exec(usage)?.[1]?.split('|') ?? [];
    const parts = Object.values(services).flatMap((s) => (s.command?.[1] === 'dist/demo/src/serve.js' ? [s.command[2]!] : []));
    expect(parts.sort()).toEqual(['idp', 'rest-api', 'soap', 'web']);
    for (const part of parts) expect(known).toContain(part);
  });

  it('come from a multi-stage Dockerfile: production dependencies only, a non-root user, a /healthz check', () => {
    const stages = dockerStages();
    expect([...stages.keys()]).toEqual(expect.arrayContaining(['build', 'demo', 'runtime']));
    // the last stage is what a plain `docker build .` makes: the gateway
    expect([...stages.keys()].at(-1)).toBe('runtime');
    const runtime = stages.get('runtime')!;
    expect(runtime).toMatch(/npm ci --omit=dev --workspaces=false --ignore-scripts/);
    expect(runtime).toMatch(/COPY --from=\w+ \/app\/dist\/src /);
    expect(runtime).toMatch(/^USER (?!root\b|0\b)\S+/m);
    expect(runtime).toMatch(/^HEALTHCHECK\b/m);
    expect(stages.get('demo')).toMatch(/^USER (?!root\b|0\b)\S+/m);
    expect(readFileSync('src/healthcheck.ts', 'utf8')).toContain('/healthz');
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', 'dist', '.git']) expect(ignored).toContain(entry);
  });

  it('keep the demo out of the gateway image: no demo file, no demo workspace, gateway scripts only', () => {
    const runtime = dockerStages().get('runtime')!;
    // without demo/package.json, npm ci --workspaces=false installs the root's dependencies only
    expect(runtime).not.toMatch(/^(COPY|ADD)\b.*\bdemo\b/im);
    expect(runtime).not.toMatch(/^(COPY|ADD)\s+config\/?\s/m);
    for (const [name, s] of Object.entries(services)) {
      if (!s.build) continue;
      const scripts = [s.command, s.healthcheck?.test].flatMap(nodeScripts);
      if (isGateway(s)) {
        expect(targetOf(s), `${name} builds the gateway image`).toBe('runtime');
        for (const script of scripts) expect(script, `${name} runs what the runtime image holds`).toMatch(/^dist\/src\//);
      } else {
        expect(targetOf(s), `${name} builds the demo image`).toBe('demo');
      }
    }
    expect(new Set(Object.values(services).filter((s) => s.build).map((s) => `${targetOf(s)} ${s.image}`))).toEqual(
      new Set(['runtime bff-gateway:local', 'demo bff-gateway-demo:local']));
  });
});
