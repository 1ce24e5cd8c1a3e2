import { createServer } from 'node:http';

// Where the L3t gateway sends its traces: an OTLP/HTTP endpoint that reads each export and
// answers 200 with an empty response in the request's encoding (protobuf or JSON), counting
// the spans' bytes (so a run can show that traces did arrive).

export interface TraceSink {
  url: string;
  bytes(): number;
  close(): Promise<void>;
}

export async function startTraceSink(): Promise<TraceSink> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    const contentType = req.headers['content-type'] ?? 'application/json';
    req.on('end', () => res.writeHead(200, { 'content-type': contentType }).end(contentType === 'application/x-protobuf' ? '' : '{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    bytes: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
