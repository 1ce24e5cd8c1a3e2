import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type TestPki } from '../helpers/certs.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { gatewayConfigObject } from '../helpers/gateway.js';

// server.tls: the gateway serves HTTPS, and renews its certificate on SIGHUP under load:
// no call fails, connections already open carry on, new ones get the new certificate.

let pki: TestPki;
let idp: TestIdp;
let gw: GatewayProcess;
let httpsUrl: string;
let port: number;

beforeAll(async () => {
  pki = createPki('Listener CA');
  const first = pki.issue('gateway-first');
  pki.issue('gateway-renewed');
  copyFileSync(first.cert, pki.path('tls.crt'));
  copyFileSync(first.key, pki.path('tls.key'));
  idp = await startTestIdp();
  gw = await startGatewayProcess({
    idp,
    store: 'memory',
    config: { server: { tls: { cert: pki.path('tls.crt'), key: pki.path('tls.key') } } },
  });
  port = Number(new URL(gw.url).port);
  httpsUrl = `https://127.0.0.1:${port}`;
});

afterAll(async () => {
  await gw?.close();
  await idp?.close();
  pki?.close();
});

/** the CN of the certificate a brand-new connection is shown */
function certificateOfNewConnection(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: pki.caPem, servername: 'localhost' }, () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      socket.end();
      resolve(String(cert.subject.CN));
    });
    socket.once('error', reject);
  });
}

/** a call on a connection of its own (a new handshake every time) */
function callOnNewConnection(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${httpsUrl}/healthz`, { ca: pki.caPem, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('the HTTPS listener (server.tls)', () => {
  it('serves HTTPS with TLS 1.2 at least, and no plain HTTP', async () => {
    expect(await callOnNewConnection()).toBe(200);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    const old = connect({ host: '127.0.0.1', port, ca: pki.caPem, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    await expect(new Promise((resolve, reject) => { old.once('secureConnect', resolve); old.once('error', reject); })).rejects.toThrow();
  });

  it('renews its certificate on SIGHUP under load: no failed call, new connections see the new certificate', async () => {
    expect(await certificateOfNewConnection()).toBe('gateway-first');
    const keptAlive = new Agent({ connect: { ca: pki.caPem }, connections: 4 });
    const outcomes = { ok: 0, failed: [] as string[] };
    let running = true;
    const worker = async (fresh: boolean) => {
      for (let i = 0; running && i < 2_000; i++) {
        try {
          const status = fresh ? await callOnNewConnection() : (await undiciFetch(`${httpsUrl}/healthz`, { dispatcher: keptAlive }).then(async (r) => { await r.arrayBuffer(); return r.status; }));
          if (status === 200) outcomes.ok++;
          else outcomes.failed.push(`status ${status}`);
        } catch (err) {
          outcomes.failed.push(String(err));
        }
      }
    };
    const load = [worker(false), worker(false), worker(true), worker(true)];
    await new Promise((r) => setTimeout(r, 300));
    copyFileSync(pki.path('gateway-renewed.crt'), pki.path('tls.crt'));
    copyFileSync(pki.path('gateway-renewed.key'), pki.path('tls.key'));
    gw.kill('SIGHUP');
    await expect.poll(certificateOfNewConnection, { timeout: 10_000, interval: 100 }).toBe('gateway-renewed');
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await Promise.all(load);
    await keptAlive.close();
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(20);
    expect(gw.output()).toContain('TLS files re-read (SIGHUP)');
    expect(await callOnNewConnection()).toBe(200); // still up: SIGHUP did not end the process
  });

  it('renews its certificate when the files change on disk, without a signal', async () => {
    const third = pki.issue('gateway-third');
    copyFileSync(third.cert, pki.path('tls.crt'));
    copyFileSync(third.key, pki.path('tls.key'));
    await expect.poll(certificateOfNewConnection, { timeout: 15_000, interval: 200 }).toBe('gateway-third');
    expect(gw.output()).toContain('TLS files re-read (file change)');
  });

  it('`bff-gateway check`: a key that is not the certificate\'s own is a configuration error naming the key (exit 2)', async () => {
    const other = pki.issue('someone-else');
    const file = pki.path('mismatched.yaml');
    const config = gatewayConfigObject({ idp, store: 'memory', config: { server: { tls: { cert: pki.path('tls.crt'), key: other.key } } } }, 8443);
    writeFileSync(file, stringify(config));
    const run = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(process.execPath, [resolve('dist/src/cli.js'), 'check', '--config', file], (error, _stdout, stderr) =>
        done({ code: error ? (child.exitCode ?? 1) : 0, stderr }));
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/server\.tls\.key: .*someone-else\.key is not the private key of the certificate in .*tls\.crt/);
  });
});
