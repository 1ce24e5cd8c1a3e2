import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

// An upstream on 127.0.0.1:0 that records what reached it and answers with a JSON echo.
// `respond` lets a test answer differently (status, delay, streaming).

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Responder = (req: SeenRequest, res: import('node:http').ServerResponse) => void | Promise<void>;

export interface TestUpstream {
  url: string;
  seen: SeenRequest[];
  respond(handler: Responder | undefined): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  let responder: Responder | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(record);
      if (responder) {
        void Promise.resolve(responder(record, res)).catch(() => res.destroy());
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: record.method, url: record.url, authorization: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    respond(handler) {
      responder = handler;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
