import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

// An upstream on 127.0.0.1:0 that counts the requests that reached it: begun, received
// whole, and broken off before their body ended (what a gateway does with a client that
// times out or goes away). Every complete request is answered 200 with a small JSON body.

export interface WatchingUpstream {
  url: string;
  /** requests whose head arrived */
  begun: number;
  /** requests whose body arrived whole */
  completed: number;
  /** requests whose connection closed before their body ended */
  brokenOff: number;
  /** requests under a path prefix by what became of them so far */
  count(pathPrefix: string, state: RequestState): number;
  /** sockets open right now */
  openSockets(): number;
  close(): Promise<void>;
}

export type RequestState = 'open' | 'completed' | 'brokenOff';

export async function startWatchingUpstream(): Promise<WatchingUpstream> {
  const sockets = new Set<Socket>();
  const requests: { url: string; state: RequestState }[] = [];
  const server: Server = createServer((req, res) => {
    upstream.begun++;
    const record = { url: req.url ?? '', state: 'open' as RequestState };
    requests.push(record);
    let ended = false;
    req.on('data', () => {});
    req.on('end', () => {
      ended = true;
      record.state = 'completed';
      upstream.completed++;
      const body = JSON.stringify({ ok: true, method: req.method, url: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    req.on('close', () => {
      if (ended) return;
      record.state = 'brokenOff';
      upstream.brokenOff++;
    });
  });
  // the slow requests under test must stay open here as long as the gateway lets them
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const upstream: WatchingUpstream = {
    url: `http://127.0.0.1:${port}`,
    begun: 0,
    completed: 0,
    brokenOff: 0,
    count: (pathPrefix, state) => requests.filter((r) => r.url.startsWith(pathPrefix) && r.state === state).length,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return upstream;
}
