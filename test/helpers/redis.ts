import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { reservePort } from './free-port.js';
import { waitForPing } from './redis-process.js';

// A real redis-server for the tests, on a free port, stopped by the test that started it.
// With REDIS_URL set the tests use that server instead (and cannot stop or restart it).

export interface TestRedis {
  url: string;
  port: number;
  /** a plain client for inspecting keys */
  client(): Redis;
  stop(): Promise<void>;
  /** start again on the same port (and data dir, so a persisting server keeps its data) */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(opts: { persist?: boolean; mustControl?: boolean } = {}): Promise<TestRedis> {
  const shared = process.env.REDIS_URL;
  if (shared && !opts.mustControl && !opts.persist) return sharedRedis(shared);
  // stopped and started again on the same port: reserved, so nobody takes it meanwhile
  const { port, release } = await reservePort();
  const dir = mkdtempSync(join(tmpdir(), 'bff-redis-'));
  const persistence = opts.persist
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--appendonly', 'no', '--save', ''];
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];

  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence], {
      stdio: 'ignore',
    });
    await waitForPing(port, proc.pid);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client() {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    stop,
    start,
    async close() {
      clients.forEach((c) => c.disconnect());
      await stop();
      rmSync(dir, { recursive: true, force: true });
      release();
    },
  };
}


function sharedRedis(url: string): TestRedis {
  const clients: Redis[] = [];
  const cannot = async () => {
    throw new Error('a REDIS_URL server cannot be stopped by the tests');
  };
  return {
    url,
    port: Number(new URL(url).port || 6379),
    client() {
      const c = new Redis(url, { maxRetriesPerRequest: 1 });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    stop: cannot,
    start: cannot,
    async close() {
      clients.forEach((c) => c.disconnect());
    },
  };
}
