import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

// Parts of `npm run bench` that run as programs of their own (each starts its own Redis,
// IdP and gateways): the HTTPS upstream against the plain one (tls-upstream.ts) and DPoP
// against bearer (dpop.ts). Their output is passed on as it is, with the ratio line found
// for the targets.

const run = promisify(execFile);

export interface SidePart {
  output: string;
  /** the ratio the part is judged by, as printed; NaN when not found */
  ratio: number;
}

async function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const file = resolve(import.meta.dirname, script);
  const { stdout } = await run(process.execPath, [file, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  return stdout;
}

/** https / plain throughput on the L3 hot path (target ≥ 0.8) */
export async function runTlsPart(rounds: number, seconds: number): Promise<SidePart> {
  const output = await runScript('tls-upstream.js', [String(rounds), String(seconds)], {});
  return { output, ratio: Number(/https \/ plain:\s+([\d.]+)/.exec(output)?.[1] ?? NaN) };
}

/** DPoP / bearer by CPU per call (target ≥ 0.7) */
export async function runDpopPart(rounds: number, seconds: number): Promise<SidePart> {
  const output = await runScript('dpop.js', [], { BENCH_ROUNDS: String(rounds), BENCH_SECONDS: String(seconds) });
  return { output, ratio: Number(/DPoP vs bearer: ([\d.]+)x/.exec(output)?.[1] ?? NaN) };
}
