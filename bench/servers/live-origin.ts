// The live origin of the bench's live part: a WebSocket echo on any path, and
// GET /events?every=MS&count=N[&pair=KEY&ways=W], an event stream. With `pair`, the origin
// holds the stream until W streams of that key are open (one direct, one through the
// gateway, ...), then writes every event to all of them in the same moment: event SEQ is
// `data: SEQ SENT\n\n` on each, SENT the moment of that stream's own write (epoch ms with
// fractions). Which stream is written first turns with SEQ, so none is always second.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { announce } from './announce.js';

const now = () => performance.timeOrigin + performance.now();

interface Group {
  ways: number;
  every: number;
  count: number;
  streams: http.ServerResponse[];
}

const waiting = new Map<string, Group>();

function start(group: Group): void {
  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    const n = group.streams.length;
    for (let i = 0; i < n; i++) {
      const stream = group.streams[(seq + i) % n]!;
      stream.write(`data: ${seq} ${now()}\n\n`);
    }
    if (seq >= group.count) {
      clearInterval(timer);
      for (const stream of group.streams) stream.end();
    }
  }, group.every);
  for (const stream of group.streams) stream.on('close', () => clearInterval(timer));
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://origin.invalid');
  if (!url.pathname.endsWith('/events')) {
    response.writeHead(404).end();
    return;
  }
  const key = url.searchParams.get('pair') ?? '';
  const group = (key && waiting.get(key)) || {
    ways: key ? Number(url.searchParams.get('ways') ?? 2) : 1,
    every: Number(url.searchParams.get('every') ?? 10),
    count: Number(url.searchParams.get('count') ?? 100),
    streams: [],
  };
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  response.flushHeaders(); // the answer is under way at every hop before the first event
  group.streams.push(response);
  if (group.streams.length < group.ways) {
    waiting.set(key, group);
    response.on('close', () => waiting.get(key) === group && waiting.delete(key)); // left before the others came
    return;
  }
  waiting.delete(key);
  start(group);
});
server.keepAliveTimeout = 60_000;
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false, maxPayload: 1024 * 1024 });
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
});
server.listen(0, '127.0.0.1', () => announce(server));
