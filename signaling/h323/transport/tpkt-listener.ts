/**
 * TCP connections that carry TPKT frames (RFC 1006): H.225.0 call signalling on 1720 and H.245
 * on its own connection, accepted or placed. This is where a hostile peer meets Carillon, so the
 * limits live here: connections in all and per source address, a deadline for each frame once
 * its first byte arrived (a slow drip is closed), an idle limit (keep-alives count as activity),
 * a bound on unsent bytes, and a framing error closing the connection. Frames go to the
 * connection's handler; nothing here knows Q.931 or H.245.
 */
import type net from 'node:net';
import type { TimerHandle, Timers } from '../../../common/clock.ts';
import { isIpLiteral, isUsablePort } from '../../../common/net-values.ts';
import type { SocketFactory } from '../../../common/sockets.ts';

/** What a TPKT framer makes of bytes as they arrive (q931/tpkt.ts is the one the edge uses). */
export interface TpktFramer {
  /** The whole frames in `chunk` (with what came before), the keep-alives among them, or the framing error that ends the stream. */
  push(chunk: Buffer): { readonly frames: readonly Buffer[]; readonly keepalives: number; readonly error: string | undefined };
  /** Whether part of a frame is waiting for the rest. */
  readonly partial: boolean;
}

export interface TpktLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerSource: number;
  /** A frame begun must be whole within this (a slow drip is closed). */
  readonly frameDeadlineMs: number;
  /** No frame and no keep-alive for this long closes the connection. */
  readonly idleTimeoutMs: number;
  /** Bytes Carillon may have queued unsent to one peer before it gives up on it. */
  readonly maxPendingWriteBytes: number;
}

export const DEFAULT_TPKT_LIMITS: TpktLimits = {
  maxConnections: 4096,
  maxConnectionsPerSource: 64,
  frameDeadlineMs: 10_000,
  idleTimeoutMs: 300_000,
  maxPendingWriteBytes: 1024 * 1024,
};

/** Why a connection closed (a bounded set: metric labels). */
export type TpktCloseReason = 'peer-closed' | 'local' | 'framing-error' | 'frame-deadline' | 'idle' | 'backpressure' | 'socket-error' | 'refused';

/** What a connection's owner hears. */
export interface TpktHandler {
  frame(payload: Buffer): void;
  keepalive?(): void;
  closed(reason: TpktCloseReason): void;
}

/** One TPKT connection. */
export interface TpktConnection {
  readonly remote: { readonly address: string; readonly port: number };
  readonly local: { readonly address: string; readonly port: number };
  /** Sends one frame's payload (framed here); false when the connection is gone or over its write bound. */
  send(payload: Buffer): boolean;
  /** Closes the connection (after what is queued is written). Idempotent. */
  close(): void;
  handler: TpktHandler;
}

export interface TpktEndpointDeps {
  readonly sockets: SocketFactory;
  readonly timers: Timers;
  /** A fresh framer per connection. */
  readonly framer: () => TpktFramer;
  /** The TPKT bytes of one payload. */
  readonly frame: (payload: Buffer) => Buffer;
  readonly limits: TpktLimits;
}

/** Counters of the listener (scraped into metrics). */
export interface TpktCounters {
  opened: number;
  refused: number;
  closed: Record<TpktCloseReason, number>;
}

const NO_HANDLER: TpktHandler = { frame: () => undefined, closed: () => undefined };

class Connection implements TpktConnection {
  handler: TpktHandler = NO_HANDLER;
  readonly remote: { readonly address: string; readonly port: number };
  readonly local: { readonly address: string; readonly port: number };
  readonly #socket: net.Socket;
  readonly #deps: TpktEndpointDeps;
  readonly #framer: TpktFramer;
  readonly #onGone: (reason: TpktCloseReason) => void;
  #frameTimer: TimerHandle | undefined;
  #idleTimer: TimerHandle | undefined;
  #gone = false;

  constructor(socket: net.Socket, deps: TpktEndpointDeps, onGone: (reason: TpktCloseReason) => void) {
    this.#socket = socket;
    this.#deps = deps;
    this.#framer = deps.framer();
    this.#onGone = onGone;
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('end', () => this.#end('peer-closed'));
    socket.on('close', () => this.#end('peer-closed'));
    socket.on('error', () => this.#end('socket-error'));
    this.#armIdle();
  }

  #data(chunk: Buffer): void {
    if (this.#gone) return;
    const { frames, keepalives, error } = this.#framer.push(chunk);
    if (frames.length > 0 || keepalives > 0) this.#armIdle();
    for (let i = 0; i < keepalives; i++) this.handler.keepalive?.();
    for (const f of frames) {
      if (this.#gone) return;
      this.handler.frame(f);
    }
    if (error !== undefined) return this.#end('framing-error');
    // A frame begun keeps its deadline from its first byte; a whole one clears it.
    if (!this.#framer.partial) {
      this.#deps.timers.clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    } else if (this.#frameTimer === undefined) {
      this.#frameTimer = this.#deps.timers.setTimeout(() => this.#end('frame-deadline'), this.#deps.limits.frameDeadlineMs);
    }
  }

  #armIdle(): void {
    this.#deps.timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#deps.timers.setTimeout(() => this.#end('idle'), this.#deps.limits.idleTimeoutMs);
  }

  send(payload: Buffer): boolean {
    if (this.#gone || this.#socket.destroyed) return false;
    if (this.#socket.writableLength > this.#deps.limits.maxPendingWriteBytes) {
      this.#end('backpressure');
      return false;
    }
    this.#socket.write(this.#deps.frame(payload));
    return true;
  }

  close(): void {
    this.#end('local');
  }

  #end(reason: TpktCloseReason): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#deps.timers.clearTimeout(this.#frameTimer);
    this.#deps.timers.clearTimeout(this.#idleTimer);
    if (reason === 'local') this.#socket.end();
    else this.#socket.destroy();
    this.#onGone(reason);
    this.handler.closed(reason);
    this.handler = NO_HANDLER;
  }
}

/** Accepts TPKT connections within the limits and places outgoing ones (the H.245 channel Carillon opens). */
export class TpktEndpoint {
  readonly counters: TpktCounters = {
    opened: 0,
    refused: 0,
    closed: { 'peer-closed': 0, local: 0, 'framing-error': 0, 'frame-deadline': 0, idle: 0, backpressure: 0, 'socket-error': 0, refused: 0 },
  };
  readonly #deps: TpktEndpointDeps;
  readonly #perSource = new Map<string, number>();
  readonly #live = new Set<Connection>();
  #server: net.Server | undefined;

  constructor(deps: TpktEndpointDeps) {
    this.#deps = deps;
  }

  get connections(): number {
    return this.#live.size;
  }

  /** Listens on `port` (0 picks a free one); each accepted connection goes to `accept`, which sets its handler. */
  listen(bindAddress: string, port: number, accept: (c: TpktConnection) => void): Promise<number> {
    const server = this.#deps.sockets.tcpServer((socket) => {
      const source = socket.remoteAddress ?? '';
      const held = this.#perSource.get(source) ?? 0;
      if (this.#live.size >= this.#deps.limits.maxConnections || held >= this.#deps.limits.maxConnectionsPerSource) {
        this.counters.refused++;
        socket.destroy();
        return;
      }
      accept(this.#adopt(socket, source));
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, bindAddress, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  }

  /**
   * Connects to a peer's address (an H.245 channel the caller listens on): IP literals and usable
   * ports only, within the same limits; undefined when the address is not one Carillon connects to.
   */
  connect(address: string, port: number, localAddress: string | undefined): Promise<TpktConnection | undefined> {
    if (!isIpLiteral(address) || !isUsablePort(port)) return Promise.resolve(undefined);
    const held = this.#perSource.get(address) ?? 0;
    if (this.#live.size >= this.#deps.limits.maxConnections || held >= this.#deps.limits.maxConnectionsPerSource) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const socket = this.#deps.sockets.tcpConnect({ host: address, port, ...(localAddress === undefined ? {} : { localAddress }) });
      const timer = this.#deps.timers.setTimeout(() => {
        socket.destroy();
        resolve(undefined);
      }, this.#deps.limits.frameDeadlineMs);
      socket.once('error', () => {
        this.#deps.timers.clearTimeout(timer);
        resolve(undefined);
      });
      socket.once('connect', () => {
        this.#deps.timers.clearTimeout(timer);
        resolve(this.#adopt(socket, address));
      });
    });
  }

  #adopt(socket: net.Socket, source: string): Connection {
    this.counters.opened++;
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    const c: Connection = new Connection(socket, this.#deps, (reason) => {
      this.#live.delete(c);
      this.counters.closed[reason]++;
      const n = (this.#perSource.get(source) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(source);
      else this.#perSource.set(source, n);
    });
    this.#live.add(c);
    return c;
  }

  /** Stops taking connections; those accepted stay open. */
  stopListening(): void {
    const server = this.#server;
    this.#server = undefined;
    server?.close();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of [...this.#live]) c.close();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }
}
