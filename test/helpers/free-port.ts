import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port that was free on 127.0.0.1 a moment ago (listen on port 0, then close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * A port for a server that is stopped and started again on it (Redis outage and failover
 * tests). A port from freePort() could be handed to someone else while the server is down:
 * the kernel gives out ports of its ephemeral range to every `listen(0)`, and test files
 * run in parallel. So this one comes from below that range, and a lock file in the temp
 * directory keeps every other test process off it until `release()`.
 */
export async function reservePort(): Promise<{ port: number; release(): void }> {
  const lowest = 20_000;
  const ephemeralStart = ephemeralRangeStart();
  const highest = ephemeralStart !== undefined && ephemeralStart > lowest + 1_000 ? ephemeralStart - 1 : 30_000;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = lowest + Math.floor(Math.random() * (highest - lowest));
    const lockFile = join(tmpdir(), `bff-test-port-${port}.lock`);
    try {
      if (Date.now() - statSync(lockFile).mtimeMs > 3_600_000) rmSync(lockFile, { force: true }); // left by a crashed run
    } catch {
      // no lock file
    }
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    } catch {
      continue; // another test process holds it
    }
    if (await canListen(port)) return { port, release: () => rmSync(lockFile, { force: true }) };
    rmSync(lockFile, { force: true });
  }
  throw new Error('no port to reserve below the ephemeral range');
}

/** Linux's first ephemeral port (32768 by default); undefined elsewhere. */
function ephemeralRangeStart(): number | undefined {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
