// L0 without nginx: the smallest node origin. Answers every request 200 "ok".
import http from 'node:http';
import { announce } from './announce.js';

const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  response.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => announce(server));
