// A tiny demo REST API behind the gateway: any method, any path, answers who the
// bearer token belongs to (GET /events and the WebSocket /clock are live: rest-live.ts). Tokens are checked at the IdP's userinfo endpoint (found
// by discovery); results are cached for a few seconds per token (by its SHA-256,
// so no token is kept in memory in plain text). The token itself is never echoed.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachClock, serveEvents } from './rest-live.js';
import { userinfoTokenCheck, type TokenVerdict } from './userinfo-check.js';

export interface DemoRestApiOptions {
  issuer: string;
  port?: number; // default 0: a free port
  host?: string; // default 127.0.0.1
  /** How long a userinfo answer is reused for the same token, in ms (default 3000; 0 = never). */
  cacheMs?: number;
}

export interface DemoRestApi {
  url: string;
  close(): Promise<void>;
}

type Verdict = TokenVerdict;

const BEARER = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i;
const MAX_CACHE_ENTRIES = 10_000;

export async function startDemoRestApi(opts: DemoRestApiOptions): Promise<DemoRestApi> {
  const issuer = opts.issuer.replace(/\/$/, '');
  const cacheMs = opts.cacheMs ?? 3000;
  const cache = new Map<string, { verdict: Verdict; until: number }>();
  const check = userinfoTokenCheck(issuer);

  /** Throws when the IdP can't be asked; otherwise says whose token it is, or that it is invalid. */
  async function verify(token: string): Promise<Verdict> {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.verdict;
    const verdict = await check(token);
    if (cacheMs > 0) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
      cache.set(key, { verdict, until: Date.now() + cacheMs });
    }
    return verdict;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let bodyBytes = 0;
    for await (const chunk of req) bodyBytes += Buffer.isBuffer(chunk) ? chunk.length : String(chunk).length;

    const { pathname } = new URL(req.url ?? '/', 'http://api.invalid');
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const verdict: Verdict = token ? await verify(token) : { invalid: true };
    if ('invalid' in verdict) {
      return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    if (pathname === '/events' && req.method === 'GET') return serveEvents(res, verdict.subject);
    send(res, 200, {
      path: pathname,
      method: req.method ?? 'GET',
      subject: verdict.subject,
      bearerTokenReceived: true,
      bodyBytes,
      time: new Date().toISOString(),
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('[demo-rest-api] cannot check the token:', err instanceof Error ? err.message : err);
      if (!res.headersSent) send(res, 503, { error: 'token_check_unavailable' }, { 'retry-after': '1' });
    });
  });
  const closeClock = attachClock(server, async (request) => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const verdict: Verdict = token ? await verify(token) : { invalid: true };
    return 'invalid' in verdict ? null : verdict.subject;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      closeClock();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(json),
    ...headers,
  });
  res.end(json);
}
