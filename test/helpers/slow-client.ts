import { connect, type Socket } from 'node:net';

// A client that sends its request a little at a time over a raw socket (a "slow upload" or
// a slowloris), and what came back before the connection closed.

export interface SlowRequest {
  socket: Socket;
  /** resolves with everything the gateway sent, once the connection is closed */
  closed: Promise<string>;
  /** true once any byte of an answer has arrived */
  answered(): boolean;
  /** stop trickling and close the connection from this side */
  abandon(): void;
}

export interface SlowRequestOptions {
  /** the request line and headers, without the final empty line */
  head: string;
  /** how the body trickles: chunked (one byte per chunk) or raw bytes of a declared length */
  body: 'chunked' | 'raw' | 'none';
  /** send the head itself a byte at a time (a slowloris) */
  slowHead?: boolean;
  /** ms between two bytes */
  everyMs?: number;
}

export function slowRequest(port: number, opts: SlowRequestOptions): SlowRequest {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Buffer.concat(received).toString('latin1'));
    });
  });
  const head = `${opts.head}\r\n\r\n`;
  let headSent = opts.slowHead ? 0 : head.length;
  const sendByte = () => {
    if (socket.destroyed || !socket.writable) return;
    if (headSent < head.length) socket.write(head[headSent++]!);
    else if (opts.body === 'chunked') socket.write('1\r\nx\r\n');
    else if (opts.body === 'raw') socket.write('x');
  };
  socket.once('connect', () => {
    if (!opts.slowHead) socket.write(head);
    sendByte();
    timer = setInterval(sendByte, opts.everyMs ?? 500);
  });
  return {
    socket,
    closed,
    answered: () => received.length > 0,
    abandon: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** The status code of a raw HTTP answer ('' when there was none). */
export function statusOf(raw: string): string {
  return /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? '';
}

/** The body of a raw HTTP answer with a Content-Length. */
export function bodyOf(raw: string): string {
  const at = raw.indexOf('\r\n\r\n');
  return at === -1 ? '' : raw.slice(at + 4);
}

/** The header block of a raw HTTP answer, lower-cased. */
export function headersOf(raw: string): string {
  const at = raw.indexOf('\r\n\r\n');
  return (at === -1 ? raw : raw.slice(0, at)).toLowerCase();
}
