import { WebSocket, type RawData } from 'ws';
import type { LiveSocket, SocketEndReason } from '../session/live-sockets.js';

// Two open WebSockets joined: the client's (accepted by the gateway) and the upstream's
// (opened by the gateway). Messages pass as they are (text stays text, binary stays
// binary; ws has already joined fragments and checked UTF-8), pings and pongs are relayed
// (both sides run with autoPong off, so the far end answers), and a close code passes on to
// the other side. Backpressure: a side whose messages wait unsent on the other side beyond
// HIGH_WATER bytes is paused (its socket stops being read) until that backlog is down to
// LOW_WATER.
// A message over the route's maximum makes ws close that side with 1009; the other side is
// closed with 1009 too.

export type CloseReason = 'client' | 'upstream' | 'message_too_big' | 'error' | SocketEndReason;

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/** how long a side may take to finish its closing handshake before it is cut */
const CLOSE_GRACE_MS = 2_000;

export interface Bridge extends LiveSocket {
  /** settles once both sides are closed, with what closed the pair first */
  readonly closed: Promise<CloseReason>;
}

export function bridge(client: WebSocket, upstream: WebSocket): Bridge {
  let reason: CloseReason | undefined;
  let clientClosed = false;
  let upstreamClosed = false;
  let settle!: (reason: CloseReason) => void;
  const closed = new Promise<CloseReason>((resolve) => (settle = resolve));
  const first = (why: CloseReason) => (reason ??= why);
  const done = () => {
    if (clientClosed && upstreamClosed) settle(reason ?? 'error');
  };

  relay(client, upstream, 'client', first);
  relay(upstream, client, 'upstream', first);
  client.once('close', () => {
    clientClosed = true;
    done();
  });
  upstream.once('close', () => {
    upstreamClosed = true;
    done();
  });

  return {
    closed,
    end(code, text, why) {
      first(why);
      closeSide(client, code, text);
      closeSide(upstream, code, text);
    },
  };
}

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;
/** how often a paused side looks whether the other has written enough of its backlog */
const RESUME_CHECK_MS = 5;

function relay(from: WebSocket, to: WebSocket, side: 'client' | 'upstream', first: (why: CloseReason) => void): void {
  // no callback per message (an allocation each): the backlog is to.bufferedAmount (what the
  // socket and ws's sender still hold), looked at after each send and, while paused, polled
  let resumeCheck: NodeJS.Timeout | undefined;
  const resumeWhenDrained = () => {
    if (to.readyState !== WebSocket.OPEN || to.bufferedAmount <= LOW_WATER) {
      clearInterval(resumeCheck);
      resumeCheck = undefined;
      from.resume();
    }
  };
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, isBinary ? BINARY : TEXT);
    if (resumeCheck === undefined && to.bufferedAmount > HIGH_WATER) {
      from.pause();
      resumeCheck = setInterval(resumeWhenDrained, RESUME_CHECK_MS);
    }
  });
  from.once('close', () => clearInterval(resumeCheck));
  from.on('ping', (data: Buffer) => {
    if (to.readyState === WebSocket.OPEN) to.ping(data);
  });
  from.on('pong', (data: Buffer) => {
    if (to.readyState === WebSocket.OPEN) to.pong(data);
  });
  from.on('error', (error: Error & { code?: string }) => {
    // ws closes `from` itself (1009, 1002, 1007...) or destroys it; the other side follows
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      first('message_too_big');
      closeSide(to, 1009, 'message too big');
    } else {
      first('error');
    }
  });
  from.once('close', (code: number, why: Buffer) => {
    first(side);
    closeSide(to, code, why.toString());
  });
}

/** Close one side with `code`, or as close as the protocol allows; cut it if it lingers. */
function closeSide(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === WebSocket.CLOSED) return;
  if (socket.readyState === WebSocket.CLOSING) return;
  if (code === 1005) socket.close(); // no status was sent: send none
  else if (sendable(code)) socket.close(code, Buffer.byteLength(reason) <= 123 ? reason : '');
  else socket.close(1011); // 1006 and other codes no endpoint may send
  const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** close codes an endpoint may send (RFC 6455 §7.4, ws's own check) */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

