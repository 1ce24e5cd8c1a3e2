import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { SESSION_KEY, SESSION_SECRET } from '../helpers/gateway.js';
import { BFF_CLIENT_SECRET, startTestIdp, type TestIdp } from '../helpers/idp.js';

// The bff-gateway command as operators run it (the built dist/, as `npm test` builds it).

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'bff-cli-'));
let idp: TestIdp;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/src/cli.js is missing: run `npm run build` (npm test does)');
  idp = await startTestIdp();
});
afterAll(async () => idp?.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], opts: { env?: Record<string, string>; onStdout?: (text: string, kill: () => void) => void } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      opts.onStdout?.(stdout, () => child.kill('SIGTERM'));
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function configFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const valid = (issuer: string, port: number) => `
server: { port: ${port}, publicUrl: "http://127.0.0.1:${port}" }
store: { url: memory }
session:
  secrets: ["\${SESSION_SECRET}"]
  encryptionKeys: ["\${SESSION_KEY}"]
oidc:
  issuer: ${issuer}
  clientId: bff
  clientSecret: \${OIDC_CLIENT_SECRET}
routes:
  - { prefix: /api, upstream: "http://127.0.0.1:1" }
`;
const env = { SESSION_SECRET, SESSION_KEY, OIDC_CLIENT_SECRET: BFF_CLIENT_SECRET };

describe('bff-gateway check', () => {
  it('exits 2 and names every bad key', async () => {
    const file = configFile('bad.yaml', `${valid('http://127.0.0.1:1', 8080)}\nextra: 1\n`.replace('port: 8080', 'port: "eighty"'));
    const run = await runCli(['check', '--config', file], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('server.port');
    expect(run.stderr).toContain('extra');
  });

  it('exits 2 naming a missing environment variable', async () => {
    const file = configFile('noenv.yaml', valid('http://127.0.0.1:1', 8080));
    const childEnv: Record<string, string> = { ...env };
    delete childEnv.OIDC_CLIENT_SECRET;
    delete process.env.OIDC_CLIENT_SECRET;
    const unset = await runCli(['check', '--config', file], { env: childEnv });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('OIDC_CLIENT_SECRET');
    expect(unset.stderr).toContain('oidc.clientSecret');
  });

  it('exits 0 for a valid file', async () => {
    const file = configFile('good.yaml', valid('http://127.0.0.1:1', 8080));
    const run = await runCli(['check', '--config', file], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('bff-gateway --config', () => {
  it('exits 2 on a bad config', async () => {
    const file = configFile('bad2.yaml', 'server: { port: -1 }\n');
    const run = await runCli(['--config', file], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('server.port');
  });

  it('exits 1 naming the URL when the issuer is unreachable', async () => {
    const dead = await freePort();
    const file = configFile('dead-issuer.yaml', valid(`http://127.0.0.1:${dead}`, 8080));
    const run = await runCli(['--config', file], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`http://127.0.0.1:${dead}/.well-known/openid-configuration`);
  });

  it('serves, and drains and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const file = configFile('run.yaml', valid(idp.issuer, port));
    let health = 0;
    const run = await runCli(['--config', file], {
      env,
      onStdout: (text, kill) => {
        if (health !== 0 || !text.includes('listening')) return;
        health = -1;
        void fetch(`http://127.0.0.1:${port}/healthz`).then((r) => {
          health = r.status;
          kill();
        });
      },
    });
    expect(health).toBe(200);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('shutting down');
  });
});
