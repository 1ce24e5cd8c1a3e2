import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

// One redis-server process (a data node or, with a config file and --sentinel, a sentinel)
// on a free loopback port in its own directory, for the Sentinel and Cluster helpers.
// Every process and temp dir made here is also killed / removed when the test worker exits,
// whatever happened.

export interface RedisProcess {
  port: number;
  /** "127.0.0.1:<port>" */
  address: string;
  /** a plain client on this process, disconnected by kill() */
  client(): Redis;
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
const roots = new Set<string>();
process.once('exit', () => {
  live.forEach((p) => p.kill('SIGKILL'));
  roots.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/** A temp dir for a deployment's nodes; remove() deletes it (after the nodes are killed). */
export function tempRoot(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  roots.add(dir);
  return {
    dir,
    remove() {
      roots.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Options every data node gets: loopback only, no persistence, immediate replica sync. */
export const DATA_NODE_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];

/** A redis-server with these command-line options (after --port and --dir). */
export async function startDataNode(root: string, args: string[] = []): Promise<RedisProcess> {
  const port = await freePort();
  const dir = join(root, `node-${port}`);
  mkdirSync(dir);
  return launch(port, ['--port', String(port), '--dir', dir, ...DATA_NODE_ARGS, ...args]);
}

/** A sentinel: its config file (Sentinel rewrites it) holds `lines` after port, bind and dir. */
export async function startSentinelNode(root: string, lines: string[]): Promise<RedisProcess> {
  const port = await freePort();
  const dir = join(root, `sentinel-${port}`);
  mkdirSync(dir);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, ...lines, ''].join('\n'));
  return launch(port, [conf, '--sentinel']);
}

async function launch(port: number, args: string[]): Promise<RedisProcess> {
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  live.add(proc);
  const clients: Redis[] = [];
  const kill = async () => {
    clients.forEach((c) => c.disconnect());
    live.delete(proc);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  try {
    await waitForPing(port, proc.pid);
  } catch (e) {
    await kill();
    throw e;
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    client() {
      const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    kill,
  };
}

export async function waitForPing(port: number, pid?: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      const answering = /process_id:(\d+)/.exec(await c.info('server'))?.[1];
      c.disconnect();
      // a server that is not the one just spawned holds the port: fail here, not in the test
      if (pid !== undefined && answering !== String(pid)) throw new PortTakenError(port);
      return;
    } catch (e) {
      if (e instanceof PortTakenError) throw e;
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await sleep(50);
    }
  }
}

/** Poll `check` every 100 ms until it returns a value (not undefined) or `ms` pass. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

/** Fields of an INFO section or CLUSTER INFO reply ("key:value" lines). */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return fields;
}

class PortTakenError extends Error {
  constructor(port: number) {
    super(`port ${port} is answered by another redis-server than the one just started`);
  }
}
