import { connect } from 'node:net';

// One HTTP/1.1 request written byte for byte on a fresh socket, for what fetch would not
// send as it is (absolute-form or `*` targets, dot segments it would normalise, a
// Connection header). The answer is read until the gateway closes the connection.

export interface RawResponse {
  status: number;
  headers: string[];
  body: string;
}

export function rawRequest(baseUrl: string, method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = (split === -1 ? text : text.slice(0, split)).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      resolve({ status, headers: head.slice(1), body: split === -1 ? '' : text.slice(split + 4) });
    });
  });
}
