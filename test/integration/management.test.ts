import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../helpers/free-port.js';
import { gatewayConfigObject, startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';

// server.management: a second listener for operators. /metrics (and /admin/*) are served
// there and not on the public listener; /healthz and /readyz on both. Without it, /metrics
// stays on the public port.

let idp: TestIdp;
let managed: TestGateway;
let plain: TestGateway;
const dir = mkdtempSync(join(tmpdir(), 'bff-mgmt-'));

beforeAll(async () => {
  idp = await startTestIdp();
  managed = await startGateway({ idp, store: 'memory', config: { server: { management: { host: '127.0.0.1', port: 0 } } } });
  plain = await startGateway({ idp, store: 'memory' });
});

afterAll(async () => {
  await managed?.close();
  await plain?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the management listener', () => {
  it('serves /metrics, and the public listener answers 404 for it', async () => {
    expect(managed.managementUrl).toBeDefined();
    expect(managed.managementUrl).not.toBe(managed.url);
    const metrics = await fetch(`${managed.managementUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/# TYPE bff_token_refresh_total counter/);
    const publicMetrics = await fetch(`${managed.url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.json()).toEqual({ error: 'not_found' });
  });

  it('serves /healthz and /readyz on both listeners', async () => {
    for (const base of [managed.url, managed.managementUrl!]) {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${base}${path}`);
        expect(res.status, `${base}${path}`).toBe(200);
        expect(await res.json()).toEqual({ status: 'ok' });
      }
    }
  });

  it('serves no auth or proxy routes', async () => {
    expect((await fetch(`${managed.managementUrl}/auth/login`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${managed.managementUrl}/auth/user`, { headers: { 'x-csrf': '1' } })).status).toBe(404);
  });

  it('is closed with the public app', async () => {
    const gw = await startGateway({ idp, store: 'memory', config: { server: { management: { host: '127.0.0.1', port: 0 } } } });
    const url = gw.managementUrl!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await gw.close();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('without server.management, /metrics stays on the public listener', async () => {
    expect(plain.managementUrl).toBeUndefined();
    expect((await fetch(`${plain.url}/metrics`)).status).toBe(200);
  });
});

describe('the CLI with a management listener on port 0', () => {
  it('logs the chosen port, serves /metrics there and closes both on SIGTERM', async () => {
    const cli = resolve('dist/src/cli.js');
    if (!existsSync(cli)) throw new Error('dist/src/cli.js is missing: run `npm run build`');
    const port = await freePort();
    const file = join(dir, 'gateway.yaml');
    const config = gatewayConfigObject({ idp, store: 'memory' }, port);
    (config.server as Record<string, unknown>).management = { host: '127.0.0.1', port: 0 };
    writeFileSync(file, stringify(config));
    const child = spawn(process.execPath, [cli, '--config', file], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    try {
      const managementPort = await new Promise<number>((found, fail) => {
        const timer = setTimeout(() => fail(new Error(`no management port in 15 s:\n${output}`)), 15_000);
        const look = () => {
          const line = output.split('\n').find((l) => l.includes('"managementPort"'));
          if (!line || !output.includes('bff-gateway listening')) return;
          clearTimeout(timer);
          found((JSON.parse(line) as { managementPort: number }).managementPort);
        };
        child.stdout.on('data', look);
      });
      expect(managementPort).toBeGreaterThan(0);
      expect(managementPort).not.toBe(port);
      expect((await fetch(`http://127.0.0.1:${managementPort}/metrics`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${managementPort}/healthz`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
