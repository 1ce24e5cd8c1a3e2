// The live origin of the bench's live part: a WebSocket echo on any path, and
// GET /events?every=MS&count=N, an event stream whose events carry the moment they were
// written (epoch ms with fractions, comparable across processes of one machine).
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { announce } from './announce.js';

const now = () => performance.timeOrigin + performance.now();

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://origin.invalid');
  if (!url.pathname.endsWith('/events')) {
    response.writeHead(404).end();
    return;
  }
  const every = Number(url.searchParams.get('every') ?? 10);
  let left = Number(url.searchParams.get('count') ?? 100);
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  const timer = setInterval(() => {
    response.write(`data: ${now()}\n\n`);
    if (--left <= 0) {
      clearInterval(timer);
      response.end();
    }
  }, every);
  response.on('close', () => clearInterval(timer));
});
server.keepAliveTimeout = 60_000;
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false, maxPayload: 1024 * 1024 });
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
});
server.listen(0, '127.0.0.1', () => announce(server));
