import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { pinned } from '../processes.js';

const run = promisify(execFile);
const GENERATOR = resolve(import.meta.dirname, 'fixed-rate.js');

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  sent: number;
  errors: number;
}

/** Latency in ms at a fixed request rate, measured by fixed-rate.ts in its own process. */
export async function latencyAt(
  url: string,
  opts: { core?: number; rate: number; seconds: number; headers: Record<string, string> },
): Promise<Latency> {
  const args = [GENERATOR, url, String(opts.rate), String(opts.seconds), JSON.stringify(opts.headers)];
  const [cmd, argv] = pinned(opts.core, process.execPath, args);
  const { stdout } = await run(cmd, argv, { timeout: (opts.seconds + 30) * 1000 });
  return JSON.parse(stdout.trim()) as Latency;
}
