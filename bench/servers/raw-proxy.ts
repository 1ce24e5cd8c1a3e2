// L1, the physical limit of a Node proxy: node:http in, an undici Pool out, a static
// Authorization header, the body streamed both ways. Nothing else.
import http from 'node:http';
import { Pool } from 'undici';
import { announce, upstreamArg } from './announce.js';

const pool = new Pool(upstreamArg(), { connections: 128, pipelining: 1 });
const server = http.createServer((request, response) => {
  const headers = { ...request.headers, authorization: 'Bearer static-bench-token' };
  delete headers.connection;
  delete headers.host;
  pool.request({ path: request.url ?? '/', method: request.method as 'GET', headers, body: request })
    .then(({ statusCode, headers: upstream, body }) => {
      delete upstream.connection;
      delete upstream['keep-alive'];
      response.writeHead(statusCode, upstream as http.OutgoingHttpHeaders);
      body.pipe(response);
    })
    .catch(() => response.writeHead(502).end());
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => announce(server));
