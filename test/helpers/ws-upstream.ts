import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

// A WebSocket upstream on 127.0.0.1:0: records every handshake that reached it, echoes each
// message as it came (text as text, binary as binary), and answers "close:<code>" by closing
// with that code and the reason "bye", "big:<n>" with a binary message of n bytes, and
// "pause:<ms>" by not reading for that long. Pings get ws's automatic pong (so a relayed ping is
// answered); `pings` counts those it received. `refuse` makes it answer handshakes with an
// HTTP status instead (recorded in `refused`); it may decide asynchronously (a check of the
// token at the IdP). Plain HTTP requests get 404 and are recorded in `requests`.

export interface SeenHandshake {
  url: string;
  headers: IncomingHttpHeaders;
}

/** How the upstream refuses a handshake: a status, headers and a body. */
export interface Refusal {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface WsUpstream {
  url: string;
  /** the handshakes it accepted */
  handshakes: SeenHandshake[];
  /** the handshakes it refused */
  refused: SeenHandshake[];
  /** decides, for each handshake, to refuse it (undefined: accept); undefined accepts all */
  refuse(decide: Decide | undefined): void;
  /** the plain HTTP requests it got (answered 404) */
  requests: SeenHandshake[];
  /** the sockets open at the upstream */
  sockets: Set<WebSocket>;
  pings: Buffer[];
  close(): Promise<void>;
}

type Decide = (request: IncomingMessage) => Refusal | undefined | Promise<Refusal | undefined>;

export async function startWsUpstream(opts: { protocol?: string } = {}): Promise<WsUpstream> {
  const handshakes: SeenHandshake[] = [];
  const refused: SeenHandshake[] = [];
  let decide: Decide | undefined;
  const requests: SeenHandshake[] = [];
  const sockets = new Set<WebSocket>();
  const pings: Buffer[] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => (opts.protocol && offered.has(opts.protocol) ? opts.protocol : false),
    verifyClient: ({ req }, done) => {
      Promise.resolve(decide?.(req)).then(
        (refusal) => {
          if (!refusal) return done(true);
          refused.push({ url: req.url ?? '', headers: req.headers });
          done(false, refusal.status, refusal.body ?? '', refusal.headers);
        },
        () => done(false, 500),
      );
    },
  });
  wss.on('connection', (socket, request) => {
    handshakes.push({ url: request.url ?? '', headers: request.headers });
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('ping', (data: Buffer) => pings.push(data));
    socket.on('message', (data: Buffer, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('close:')) socket.close(Number(text.slice(6)), 'bye');
      else if (text.startsWith('big:')) socket.send(Buffer.alloc(Number(text.slice(4)), 3));
      else if (text.startsWith('pause:')) {
        // stop reading for a while: what the client sends meanwhile piles up
        socket.pause();
        setTimeout(() => socket.resume(), Number(text.slice(6)));
      }
      else socket.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    handshakes,
    refused,
    requests,
    refuse: (how) => {
      decide = how;
    },
    sockets,
    pings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
