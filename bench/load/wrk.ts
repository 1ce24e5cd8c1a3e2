import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pinned } from '../processes.js';

const run = promisify(execFile);

export interface Throughput {
  requestsPerSecond: number;
  requests: number;
  /** non-2xx answers and socket errors */
  errors: number;
}

/** wrk at full speed (closed loop): one thread, `connections` connections, pinned to `core`. */
export async function wrk(
  url: string,
  opts: { core?: number; connections: number; seconds: number; headers: Record<string, string> },
): Promise<Throughput> {
  const headerArgs = Object.entries(opts.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '10s', ...headerArgs, url];
  const [cmd, argv] = pinned(opts.core, 'wrk', args);
  const { stdout } = await run(cmd, argv, { timeout: (opts.seconds + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const total = /(\d+) requests in/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  if (!rps || !total) throw new Error(`cannot read wrk's output:\n${stdout}`);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rps[1]),
    requests: Number(total[1]),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors,
  };
}
