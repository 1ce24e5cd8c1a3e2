import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';
import { gatewayConfigObject, registerWithIdp, type TestGatewayOptions } from './gateway.js';

// A gateway as operators run it: the built CLI in its own process, so a test can kill it
// (SIGKILL mid-refresh) or stop it (SIGTERM) and watch what it leaves behind.

const CLI = resolve('dist/src/cli.js');

export interface GatewayProcess {
  url: string;
  /** everything the process wrote to stdout and stderr so far */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** resolves with the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
  close(): Promise<void>;
}

export async function startGatewayProcess(opts: Omit<TestGatewayOptions, 'app'>): Promise<GatewayProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await registerWithIdp(opts.idp, url);
  const dir = mkdtempSync(join(tmpdir(), 'bff-gw-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(gatewayConfigObject(opts, port)));

  const child: ChildProcess = spawn(process.execPath, [CLI, '--config', file], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  void exited.then(cleanup);

  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`gateway did not start in 10 s:\n${output}`)), 10_000);
    const check = () => {
      if (!output.includes('listening')) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      ready();
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`gateway exited with ${code}:\n${output}`));
    });
  });

  return {
    url,
    output: () => output,
    kill: (signal) => void child.kill(signal),
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
