// The demo REST API's live endpoints, behind the gateway:
// - WebSocket /clock: needs a valid bearer token on the handshake (else 401, no upgrade);
//   sends {"type":"tick","time":…,"subject":…} every second and echoes each message back
//   as {"type":"echo","text":…}.
// - GET /events: a text/event-stream with one "tick" event a second (the caller's token was
//   checked by rest-api.ts).
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';

const TICK_MS = 1_000;

/** Handles upgrades on /clock; `subjectOf` says whose bearer token a request carries (null: invalid). */
export function attachClock(server: http.Server, subjectOf: (request: http.IncomingMessage) => Promise<string | null>): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/clock') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    subjectOf(request).then(
      (subject) => {
        if (subject === null) {
          socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nWWW-Authenticate: Bearer error="invalid_token"\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          const tick = () => ws.send(JSON.stringify({ type: 'tick', time: new Date().toISOString(), subject }));
          tick();
          const timer = setInterval(tick, TICK_MS);
          ws.on('message', (data, isBinary) => {
            ws.send(JSON.stringify({ type: 'echo', text: isBinary ? `${(data as Buffer).length} bytes` : String(data) }));
          });
          ws.on('close', () => clearInterval(timer));
        });
      },
      () => socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
    );
  });
  return () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  };
}

/** GET /events: one event a second until the client goes away. */
export function serveEvents(response: http.ServerResponse, subject: string): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  let id = 0;
  const tick = () => response.write(`id: ${++id}\nevent: tick\ndata: ${JSON.stringify({ time: new Date().toISOString(), subject })}\n\n`);
  tick();
  const timer = setInterval(tick, TICK_MS);
  response.on('close', () => clearInterval(timer));
}
