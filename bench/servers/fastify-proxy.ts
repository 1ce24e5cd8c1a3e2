// L2: bare fastify + @fastify/http-proxy, adding a static Authorization header.
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import type { Server } from 'node:http';
import { announce, upstreamArg } from './announce.js';

const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: upstreamArg(),
  undici: { connections: 128 },
  replyOptions: {
    rewriteRequestHeaders: (_request, headers) => ({ ...headers, authorization: 'Bearer static-bench-token' }),
  },
});
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server as Server);
