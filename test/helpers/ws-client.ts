import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket, type RawData } from 'ws';

// A ws client for tests: the gateway's answer to an upgrade (an open socket, or the HTTP
// status, headers and body it refused with), the next message, and how a socket closed.

export type Opened = { socket: WebSocket; status: 101 } | { socket: undefined; status: number; headers: IncomingHttpHeaders; body: string };

export function openSocket(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), protocols, { headers, handshakeTimeout: 10_000 });
    socket.once('open', () => resolve({ socket, status: 101 }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      const refused = () => resolve({ socket: undefined, status: response.statusCode ?? 0, headers: response.headers, body });
      response.on('end', refused);
      response.on('error', refused);
    });
    socket.once('error', reject);
  });
}

export interface Closed {
  code: number;
  reason: string;
  /** performance.now() when the close event came */
  at: number;
}

/** Resolves when the socket closes (at once if it already has). */
export function closeOf(socket: WebSocket): Promise<Closed> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve({ code: -1, reason: 'already closed', at: performance.now() });
    socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString(), at: performance.now() }));
  });
}

export function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    socket.once('message', (data: RawData, isBinary: boolean) => resolve({ data: data as Buffer, isBinary }));
    socket.once('close', (code: number) => reject(new Error(`closed with ${code} before a message came`)));
  });
}

/** Resolves once `check` holds, polling every 20 ms; rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
