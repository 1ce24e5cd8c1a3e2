import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';

// config/nginx.conf, the compose lb, run for real: rendered as the nginx image renders its
// templates (only LB_ variables), in front of two stand-in gateways on 127.0.0.1. The
// X-Gateway-Instance header (internal addresses) is sent only with LB_INSTANCE_HEADER=on.

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

let backends: { server: Server; port: number }[] = [];

beforeAll(async () => {
  if (!NGINX) throw new Error('nginx is not installed (.ci/run installs it)');
  backends = await Promise.all([1, 2].map(async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return { server, port: typeof address === 'object' && address ? address.port : 0 };
  }));
});

afterAll(async () => {
  await Promise.all(backends.map(({ server }) => new Promise((resolve) => server.close(resolve))));
});

/** As the image's 20-envsubst-on-templates.sh with NGINX_ENVSUBST_FILTER=LB_: $LB_X and ${LB_X} of set variables. */
function renderTemplate(template: string, env: Record<string, string>): string {
  return template.replace(/\$(\{)?(LB_\w*)(\})?/g, (match, open: string | undefined, name: string, close: string | undefined) =>
    Boolean(open) === Boolean(close) && env[name] !== undefined ? env[name] : match);
}

/** nginx with config/nginx.conf (rendered with `env`) on a free port; the gateways are the stand-ins. */
async function startLb(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bff-lb-'));
  let conf = renderTemplate(readFileSync('config/nginx.conf', 'utf8'), env);
  expect(conf).toMatch(/^\s*listen 8080;/m);
  conf = conf.replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${port};`);
  conf = conf.replace(/server gateway-(\d):8080/g, (_m, n: string) => `server 127.0.0.1:${backends[Number(n) - 1]!.port}`);
  expect(conf).not.toMatch(/gateway-\d:/);
  writeFileSync(join(dir, 'default.conf'), conf);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 64; }
http { access_log off; ${temp} include ${dir}/default.conf; }
`);
  const nginx: ChildProcess = spawn(NGINX!, ['-p', dir, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()));
  const stop = async () => {
    nginx.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false);
    if (up) return { url: `http://127.0.0.1:${port}`, stop };
    if (i === 100 || nginx.exitCode !== null) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      await stop();
      throw new Error(`nginx did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function instanceHeaders(url: string): Promise<(string | null)[]> {
  const seen: (string | null)[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    seen.push(res.headers.get('x-gateway-instance'));
  }
  return seen;
}

describe('the lb (config/nginx.conf)', () => {
  it('sends no instance header by default (LB_INSTANCE_HEADER=off, as compose sets it)', async () => {
    const lb = await startLb({ LB_INSTANCE_HEADER: 'off' });
    try {
      expect(await instanceHeaders(lb.url)).toEqual([null, null, null, null]);
    } finally {
      await lb.stop();
    }
  });

  it('names the instance that answered with LB_INSTANCE_HEADER=on', async () => {
    const lb = await startLb({ LB_INSTANCE_HEADER: 'on' });
    try {
      const seen = new Set(await instanceHeaders(lb.url));
      expect(seen).toEqual(new Set(backends.map(({ port }) => `127.0.0.1:${port}`)));
    } finally {
      await lb.stop();
    }
  });
});
