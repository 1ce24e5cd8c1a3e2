import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoPage } from './page.js';

// Serves the demo SPA; the gateway forwards "/" here (a token: none route). "/" is the HTML
// shell, /spa/<name>.js the compiled scripts (tsc puts them next to this file, in spa/).

export interface DemoWebOptions {
  host?: string; // default 127.0.0.1
  port?: number; // default 0: a free port
  /** the gateway path of the demo SOAP API, when the gateway has one (shows the SOAP button) */
  soapPath?: string;
  /** where the compiled SPA scripts are; default the spa/ directory next to this module */
  spaDir?: string;
}

export interface DemoWeb {
  url: string;
  close(): Promise<void>;
}

const SCRIPT = /^\/spa\/([a-z][a-z0-9-]*\.js)$/;
// The page loads only its own scripts and talks only to its own origin (the gateway).
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
  + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export async function startDemoWeb(opts: DemoWebOptions = {}): Promise<DemoWeb> {
  const spaDir = opts.spaDir ?? fileURLToPath(new URL('./spa/', import.meta.url));
  const page = demoPage(opts.soapPath === undefined ? {} : { soapPath: opts.soapPath });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const head = req.method === 'HEAD';
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CSP });
      res.end(head ? undefined : page);
      return;
    }
    const script = SCRIPT.exec(path)?.[1];
    const body = script === undefined ? undefined : await readFile(join(spaDir, script)).catch(() => undefined);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(head ? undefined : body);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
