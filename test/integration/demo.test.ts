import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { loginThroughGateway } from '../helpers/login.js';

// `npm start` as a user runs it (on free ports instead of 8080/9000): the page, a login
// through the demo IdP's form, a call to the demo API, a logout.

const MAIN = resolve('dist/demo/src/main.js');
let demo: ChildProcess;
let gateway: string;
let output = '';

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const port = await freePort();
  const idpPort = await freePort();
  gateway = `http://localhost:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DEMO_IDP_PORT: String(idpPort) };
  delete env.REDIS_URL;
  demo = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  demo.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!output.includes('demo login')) {
    if (Date.now() > deadline || demo.exitCode !== null) throw new Error(`demo did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(() => {
  demo?.kill('SIGTERM');
});

describe('npm start (the embedded demo)', () => {
  it('prints the URL and the demo login', () => {
    expect(output).toContain(gateway);
    expect(output).toMatch(/demo login:\s+alice \/ wonderland/);
  });

  it('serves the demo page at /', async () => {
    const res = await fetch(`${gateway}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const button of ['Log in', 'Call API', 'Log out']) expect(html).toContain(button);
  });

  it('logs in through the demo IdP, calls the API with a bearer token, logs out', async () => {
    const { sessionCookie } = await loginThroughGateway(gateway, { returnTo: '/' });
    const headers = { 'x-csrf': '1', cookie: sessionCookie };
    const api = await fetch(`${gateway}/api/hello`, { headers });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { subject: string; bearerTokenReceived: boolean };
    expect(body).toMatchObject({ subject: 'alice', bearerTokenReceived: true });
    const logout = await fetch(`${gateway}/auth/logout`, { method: 'POST', headers });
    expect(logout.status).toBe(200);
    expect((await fetch(`${gateway}/api/hello`, { headers })).status).toBe(401);
  });
});
