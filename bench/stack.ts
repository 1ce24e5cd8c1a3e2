import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startServer, type Started } from './processes.js';

// What every rung stands on: a Redis of the bench's own, the origin (nginx when the
// machine has it, else a node origin), and where each process runs. With two cores the load
// generators, the origin and Redis share core 0 and the proxy under test has core 1 to itself.

export const LOAD_CORE = 0;
export const PROXY_CORE = 1;

const DIST = resolve(import.meta.dirname);
export const serverScript = (name: string) => join(DIST, 'servers', `${name}.js`);

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export interface BenchRedis extends Started {
  url: string;
}

export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  const ready = async () => {
    for (let i = 0; i < 100; i += 1) {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {}); // not up yet: the loop tries again
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        client.disconnect();
      }
    }
    throw new Error('redis-server did not answer');
  };
  const server = await startServer(LOAD_CORE, 'redis-server', args, { port, ready });
  return { ...server, url: `redis://127.0.0.1:${port}/0` };
}

export interface Origin extends Started {
  url: string;
  kind: 'nginx' | 'node';
}

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

/** L0: nginx answering `return 200`, or the node origin when nginx is not installed. */
export async function startOrigin(): Promise<Origin> {
  if (!NGINX) {
    const server = await startServer(LOAD_CORE, process.execPath, [serverScript('origin')]);
    return { ...server, url: `http://127.0.0.1:${server.port}`, kind: 'node' };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bff-bench-nginx-'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  writeFileSync(join(dir, 'nginx.conf'), `
daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; ${temp}
  server { listen 127.0.0.1:${port}; keepalive_requests 1000000;
    location / { default_type text/plain; return 200 'ok'; } } }
`);
  const ready = async () => {
    for (let i = 0; i < 100; i += 1) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('nginx did not answer');
  };
  const server = await startServer(LOAD_CORE, NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { port, ready });
  return {
    ...server,
    url: `http://127.0.0.1:${port}`,
    kind: 'nginx',
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
