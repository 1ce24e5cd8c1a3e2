// L4, the peer a Node team would otherwise write: express 5, express-session with
// connect-redis, http-proxy-middleware, and the bearer header taken from the session.
// POST /bench/login puts an access token in a new session (the bench's stand-in for a login).
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import type { Server } from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { Agent } from 'node:http';
import { createClient } from 'redis';
import { announce, upstreamArg } from './announce.js';

declare module 'express-session' {
  interface SessionData {
    accessToken?: string;
  }
}

const redisUrl = process.argv[3];
if (!redisUrl) throw new Error('usage: node express-peer.js UPSTREAM_URL REDIS_URL');
const client = createClient({ url: redisUrl });
client.on('error', (error: unknown) => process.stderr.write(`express peer: redis: ${String(error)}\n`));
await client.connect();

const app = express();
app.disable('x-powered-by');
app.use(session({
  store: new RedisStore({ client, prefix: 'bench-peer:' }),
  secret: 'bench-peer-secret-0123456789abcdef',
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'strict' },
}));
app.post('/bench/login', (request, response) => {
  request.session.accessToken = 'peer-access-token';
  response.status(204).end();
});
app.use((request, response, next) => {
  const token = request.session.accessToken;
  if (!token) {
    response.status(401).json({ error: 'unauthenticated' });
    return;
  }
  // set on the incoming request: http-proxy's proxyReq event can fire once the outgoing
  // headers are sent (a reused socket), and setHeader then throws and kills the process
  request.headers.authorization = `Bearer ${token}`;
  delete request.headers.cookie;
  next();
});
app.use(createProxyMiddleware({
  target: upstreamArg(),
  agent: new Agent({ keepAlive: true, maxSockets: 128 }),
}));
const server: Server = app.listen(0, '127.0.0.1', () => announce(server));
