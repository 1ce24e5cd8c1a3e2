import type { Socket } from 'node:net';
import type { LiveSocket, SocketEndReason } from '../session/live-sockets.js';
import { closeFrame } from './websocket-close.js';
import { Lane, type LaneEvents } from './websocket-lane.js';

// A proxied WebSocket once both handshakes are done: the client's socket and the upstream's
// joined byte for byte, one lane each way (websocket-lane.ts). Frames, pings, pongs and
// close frames (with their codes) pass as they are; the endpoints do the protocol (UTF-8,
// masking, ping answers), the gateway only watches frame headers. What the gateway adds:
// - a message over the maximum: nothing of it passes, both sides get a close frame 1009;
// - end() (session ended 4401, shutdown 1001): both sides get a close frame at their
//   next frame boundary;
// - once a side has sent a close frame and had one, its connection is ended; a FIN or a
//   lost connection on one side ends the other;
// - sockets still open CLOSE_GRACE_MS after the gateway's own close (or HANDSHAKE_GRACE_MS
//   after an endpoint's) are destroyed.

export type CloseReason = 'client' | 'upstream' | 'message_too_big' | 'error' | SocketEndReason;

export interface Tunnel extends LiveSocket {
  /** settles once both sockets are closed, with what closed the pair first */
  readonly closed: Promise<CloseReason>;
}

/** how long a side may take to answer the gateway's close before it is cut */
const CLOSE_GRACE_MS = 2_000;
/** how long a closing handshake begun by an endpoint may take (ws's own closeTimeout) */
const HANDSHAKE_GRACE_MS = 30_000;
const TOO_BIG = { code: 1009, reason: 'message too big' } as const;

export function tunnel(client: Socket, clientHead: Buffer, upstream: Socket, upstreamHead: Buffer, maxMessage: number): Tunnel {
  return new WebSocketTunnel(client, clientHead, upstream, upstreamHead, maxMessage);
}

class WebSocketTunnel implements Tunnel, LaneEvents {
  readonly closed: Promise<CloseReason>;
  private settle!: (reason: CloseReason) => void;
  private reason: CloseReason | undefined;
  private readonly toUpstream: Lane;
  private readonly toClient: Lane;
  private openSockets = 2;
  private cutTimer: NodeJS.Timeout | undefined;
  private cutAt = Infinity;

  constructor(
    private readonly client: Socket,
    clientHead: Buffer,
    private readonly upstream: Socket,
    upstreamHead: Buffer,
    maxMessage: number,
  ) {
    this.closed = new Promise<CloseReason>((resolve) => (this.settle = resolve));
    this.toUpstream = new Lane(client, upstream, true, maxMessage, this);
    this.toClient = new Lane(upstream, client, false, maxMessage, this);
    for (const socket of [client, upstream]) {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.on('error', () => {}); // a lost connection shows as its 'close'
    }
    client.on('end', () => this.ended('client'));
    upstream.on('end', () => this.ended('upstream'));
    client.once('close', () => this.socketClosed('client'));
    upstream.once('close', () => this.socketClosed('upstream'));
    if (clientHead.length > 0) this.toUpstream.push(clientHead);
    if (upstreamHead.length > 0) this.toClient.push(upstreamHead);
    client.on('data', this.toUpstream.push);
    upstream.on('data', this.toClient.push);
    client.resume();
    upstream.resume();
  }

  end(code: number, reason: string, why: SocketEndReason): void {
    this.first(why);
    this.toClient.inject(closeFrame(code, reason, false));
    this.toUpstream.inject(closeFrame(code, reason, true));
    this.cutAfter(CLOSE_GRACE_MS);
  }

  closing(lane: Lane): void {
    this.first(lane === this.toUpstream ? 'client' : 'upstream');
    this.cutAfter(HANDSHAKE_GRACE_MS);
    // a side that has sent its close frame and had one is done: its connection ends
    // (toward the client, the gateway is the server, which closes first, RFC 6455 §7.1.1)
    if (this.toUpstream.closesFrom > 0 && this.toClient.closeDelivered) this.client.end();
    if (this.toClient.closesFrom > 0 && this.toUpstream.closeDelivered) this.upstream.end();
  }

  tooBig(lane: Lane): void {
    this.first('message_too_big');
    lane.sendClose(closeFrame(TOO_BIG.code, TOO_BIG.reason, lane.masked));
    const other = lane === this.toUpstream ? this.toClient : this.toUpstream;
    other.inject(closeFrame(TOO_BIG.code, TOO_BIG.reason, other.masked));
    this.cutAfter(CLOSE_GRACE_MS);
  }

  /** A side sent its FIN: it sends nothing more, so both connections end (after what is queued). */
  private ended(side: 'client' | 'upstream'): void {
    this.first(side);
    this.client.end();
    this.upstream.end();
    this.cutAfter(CLOSE_GRACE_MS);
  }

  private socketClosed(side: 'client' | 'upstream'): void {
    this.first(side);
    const other = side === 'client' ? this.upstream : this.client;
    other.end();
    this.cutAfter(CLOSE_GRACE_MS);
    if (--this.openSockets > 0) return;
    clearTimeout(this.cutTimer);
    this.settle(this.reason ?? 'error');
  }

  private first(reason: CloseReason): void {
    this.reason ??= reason;
  }

  /** Destroys both sockets in `ms` if they are still open then (an earlier deadline wins). */
  private cutAfter(ms: number): void {
    if (this.openSockets === 0) return;
    const at = Date.now() + ms;
    if (at >= this.cutAt) return;
    this.cutAt = at;
    clearTimeout(this.cutTimer);
    this.cutTimer = setTimeout(() => {
      this.client.destroy();
      this.upstream.destroy();
    }, ms);
    this.cutTimer.unref();
  }
}
