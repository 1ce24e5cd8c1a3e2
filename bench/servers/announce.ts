import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Tells the bench (the parent process) the port a server listens on: one line on stdout. */
export function announce(server: Server): void {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

/** argv[2]: the upstream's origin, e.g. http://127.0.0.1:8081 */
export function upstreamArg(): string {
  const upstream = process.argv[2];
  if (!upstream) throw new Error('usage: node <server>.js UPSTREAM_URL');
  return upstream;
}
