import type net from 'node:net';
import type tls from 'node:tls';
import type { TimerHandle, Timers } from '../../../common/clock.ts';
import type { SocketFactory } from '../../../common/sockets.ts';
import { StreamFramer } from '../message/framer.ts';
import type { SendFailure, Source } from './types.ts';

/** Limits and timeouts for stream transports, with their defaults. */
export interface StreamLimits {
  /** Close a connection after this long with no bytes either way. Default 3600 s. */
  readonly idleTimeoutMs: number;
  /** Most simultaneous connections from one remote IP. Default 512. */
  readonly maxConnectionsPerSource: number;
  /** Most simultaneous connections in all. Default 16384. */
  readonly maxConnections: number;
  /** Largest message accepted; a bigger one closes the connection. Default 64 KiB. */
  readonly maxMessageBytes: number;
  /** A peer that lets this much unsent data pile up is dropped. Default 4 MiB. */
  readonly maxPendingWriteBytes: number;
  /** Give up connecting after this long. Default 5 s. */
  readonly connectTimeoutMs: number;
  /**
   * A message must be whole this long after its first byte, an accepted connection must send
   * its first bytes this long after it opened (after the TLS handshake), and a TLS handshake may
   * take this long: a peer that drips bytes cannot hold a connection slot. Default 20 s.
   */
  readonly messageDeadlineMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  idleTimeoutMs: 3_600_000,
  maxConnectionsPerSource: 512,
  maxConnections: 16_384,
  maxMessageBytes: 65_536,
  maxPendingWriteBytes: 4 * 1024 * 1024,
  connectTimeoutMs: 5_000,
  messageDeadlineMs: 20_000,
};

export interface StreamTransportOptions {
  readonly kind: 'tcp' | 'tls';
  readonly sockets: SocketFactory;
  readonly timers: Timers;
  readonly bindAddress: string;
  readonly port: number;
  readonly limits: StreamLimits;
  /** Server certificate and key (PEM) for TLS. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly verifyServer: boolean; readonly ca?: string };
  /** A whole message framed off a connection. */
  readonly onMessage: (buf: Buffer, source: Source) => void;
  /** A framing error (oversized or broken Content-Length); the connection is closed after this. */
  readonly onFramingError?: (reason: string, source: Source) => void;
}

type ConnState = 'connecting' | 'open' | 'closed';

interface Connection {
  readonly id: number;
  readonly socket: net.Socket;
  readonly remoteKey: string;
  readonly source: Source;
  state: ConnState;
  /** Messages waiting for the connection to open, with their failure callbacks. */
  queue: { buf: Buffer; onError: ((f: SendFailure) => void) | undefined }[];
  /** Runs while the peer owes bytes: its first ones (accepted connections) or the rest of a message. */
  deadline: TimerHandle | undefined;
}

/**
 * TLS 1.2 minimum and forward-secret suites only (SPEC §2). TLS 1.3 suites are all ECDHE.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * SIP over TCP or TLS (RFC 3261 §18.3): connections framed by Content-Length, reused for
 * responses (§18.2.2) and for requests toward the same remote address and port.
 */
export class StreamTransport {
  readonly kind: 'tcp' | 'tls';
  readonly #opts: StreamTransportOptions;
  #server: net.Server | undefined;
  #nextId = 1;
  readonly #byId = new Map<number, Connection>();
  readonly #byRemote = new Map<string, Connection>();
  readonly #perSource = new Map<string, number>();
  #localAddress = '';
  #localPort = 0;
  #closing = false;
  /** Connections refused for limits, framing errors, connect failures (counted). */
  readonly counters = { refused: 0, framingErrors: 0, connectFailures: 0, opened: 0, closed: 0, deadlinesMissed: 0 };

  constructor(opts: StreamTransportOptions) {
    this.kind = opts.kind;
    this.#opts = opts;
  }

  get localPort(): number {
    return this.#localPort;
  }

  get localAddress(): string {
    return this.#localAddress;
  }

  get connectionCount(): number {
    return this.#byId.size;
  }

  listen(): Promise<number> {
    const onConnection = (socket: net.Socket): void => this.#accept(socket);
    let server: net.Server;
    if (this.kind === 'tls') {
      const t = this.#opts.tls;
      if (t === undefined) return Promise.reject(new Error('TLS transport needs a certificate and key'));
      server = this.#opts.sockets.tlsServer(
        { cert: t.cert, key: t.key, minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS, honorCipherOrder: true, handshakeTimeout: this.#opts.limits.messageDeadlineMs },
        onConnection,
      );
      // Handshake failures (scanners, wrong protocol) are the client's problem, not ours.
      server.on('tlsClientError', () => {
        this.counters.refused++;
      });
    } else {
      server = this.#opts.sockets.tcpServer(onConnection);
    }
    this.#server = server;
    server.maxConnections = this.#opts.limits.maxConnections;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port, this.#opts.bindAddress, () => {
        server.off('error', reject);
        server.on('error', () => {
          this.counters.refused++;
        });
        const addr = server.address() as net.AddressInfo;
        this.#localAddress = addr.address;
        this.#localPort = addr.port;
        resolve(addr.port);
      });
    });
  }

  #accept(socket: net.Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    if (this.#closing || address === '') {
      socket.destroy();
      return;
    }
    const n = this.#perSource.get(address) ?? 0;
    if (n >= this.#opts.limits.maxConnectionsPerSource) {
      this.counters.refused++;
      socket.destroy();
      return;
    }
    this.#register(socket, address, port, 'open');
  }

  #register(socket: net.Socket, address: string, port: number, state: ConnState): Connection {
    const id = this.#nextId++;
    const source: Source = {
      transport: this.kind,
      address,
      port,
      localAddress: this.#localAddress,
      localPort: this.#localPort,
      connectionId: id,
    };
    const conn: Connection = { id, socket, remoteKey: `${address}:${port}`, source, state, queue: [], deadline: undefined };
    this.#byId.set(id, conn);
    this.#byRemote.set(conn.remoteKey, conn);
    this.#perSource.set(address, (this.#perSource.get(address) ?? 0) + 1);
    this.counters.opened++;
    socket.setNoDelay(true);
    socket.setTimeout(this.#opts.limits.idleTimeoutMs, () => socket.destroy());
    const framer = new StreamFramer({
      maxMessageBytes: this.#opts.limits.maxMessageBytes,
      onMessage: (buf) => this.#opts.onMessage(buf, source),
      onKeepAlive: () => {
        // RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong.
        if (conn.state === 'open') socket.write('\r\n');
      },
      onError: (reason) => {
        this.counters.framingErrors++;
        this.#opts.onFramingError?.(reason, source);
        socket.destroy();
      },
    });
    // A connection someone opened to Carillon owes its first bytes within the deadline.
    if (state === 'open') this.#armDeadline(conn);
    socket.on('data', (chunk: Buffer) => {
      const framedBefore = framer.messagesFramed;
      framer.push(chunk);
      if (conn.state === 'closed') return;
      // Between messages nothing is owed; a message begun (again) must be whole within the deadline.
      if (framer.pendingBytes === 0) this.#disarmDeadline(conn);
      else if (conn.deadline === undefined || framer.messagesFramed !== framedBefore) this.#armDeadline(conn);
    });
    socket.on('error', () => {
      // 'close' follows; errors on one connection never reach the process.
    });
    socket.on('close', () => this.#forget(conn));
    return conn;
  }

  #armDeadline(conn: Connection): void {
    this.#disarmDeadline(conn);
    conn.deadline = this.#opts.timers.setTimeout(() => {
      conn.deadline = undefined;
      if (conn.state === 'closed') return;
      this.counters.deadlinesMissed++;
      conn.socket.destroy();
    }, this.#opts.limits.messageDeadlineMs);
  }

  #disarmDeadline(conn: Connection): void {
    if (conn.deadline === undefined) return;
    this.#opts.timers.clearTimeout(conn.deadline);
    conn.deadline = undefined;
  }

  #forget(conn: Connection): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.#disarmDeadline(conn);
    this.counters.closed++;
    this.#byId.delete(conn.id);
    if (this.#byRemote.get(conn.remoteKey) === conn) this.#byRemote.delete(conn.remoteKey);
    const n = (this.#perSource.get(conn.source.address) ?? 1) - 1;
    if (n <= 0) this.#perSource.delete(conn.source.address);
    else this.#perSource.set(conn.source.address, n);
    const queue = conn.queue;
    conn.queue = [];
    for (const q of queue) q.onError?.({ code: 'CONNECT_FAILED' });
  }

  /** Whether a connection with this id is still open. */
  isOpen(connectionId: number): boolean {
    return this.#byId.get(connectionId)?.state === 'open';
  }

  /**
   * Sends on `connectionId` when it is still open, else on any open connection to
   * address:port, else on a new connection.
   */
  send(buf: Buffer, address: string, port: number, connectionId: number | undefined, onError?: (f: SendFailure) => void): void {
    let conn = connectionId === undefined ? undefined : this.#byId.get(connectionId);
    if (conn === undefined || conn.state === 'closed') conn = this.#byRemote.get(`${address}:${port}`);
    if (conn === undefined || conn.state === 'closed') {
      if (this.#closing) {
        if (onError !== undefined) queueMicrotask(() => onError({ code: 'CONNECTION_CLOSED' }));
        return;
      }
      const opened = this.#connect(address, port);
      if (opened === undefined) {
        if (onError !== undefined) queueMicrotask(() => onError({ code: 'CONNECT_FAILED' }));
        return;
      }
      conn = opened;
    }
    if (conn.state === 'connecting') {
      conn.queue.push({ buf, onError });
      return;
    }
    this.#write(conn, buf, onError);
  }

  #write(conn: Connection, buf: Buffer, onError: ((f: SendFailure) => void) | undefined): void {
    const socket = conn.socket;
    if (socket.writableLength > this.#opts.limits.maxPendingWriteBytes) {
      // A peer that stopped reading: drop it rather than buffer without bound.
      socket.destroy();
      if (onError !== undefined) queueMicrotask(() => onError({ code: 'CONNECTION_CLOSED' }));
      return;
    }
    socket.write(buf);
  }

  /** Opens a connection; undefined when the socket layer refused the address or port outright. */
  #connect(address: string, port: number): Connection | undefined {
    let socket: net.Socket;
    if (this.kind === 'tls') {
      const t = this.#opts.tls;
      const options: tls.ConnectionOptions = {
        host: address,
        port,
        minVersion: 'TLSv1.2',
        ciphers: TLS_CIPHERS,
        rejectUnauthorized: t?.verifyServer ?? true,
      };
      if (t?.ca !== undefined) options.ca = t.ca;
      // SNI must be a host name, never an IP literal (RFC 6066 §3).
      if (!/^[\d.]+$/.test(address) && !address.includes(':')) options.servername = address;
      try {
        socket = this.#opts.sockets.tlsConnect(options);
      } catch {
        this.counters.connectFailures++;
        return undefined;
      }
    } else {
      try {
        socket = this.#opts.sockets.tcpConnect({ host: address, port, noDelay: true });
      } catch {
        // net.connect throws synchronously for a port outside 0–65535.
        this.counters.connectFailures++;
        return undefined;
      }
    }
    const conn = this.#register(socket, address, port, 'connecting');
    const timer = this.#opts.timers.setTimeout(() => {
      if (conn.state === 'connecting') {
        this.counters.connectFailures++;
        socket.destroy();
      }
    }, this.#opts.limits.connectTimeoutMs);
    const onReady = (): void => {
      this.#opts.timers.clearTimeout(timer);
      if (conn.state !== 'connecting') return;
      conn.state = 'open';
      const queue = conn.queue;
      conn.queue = [];
      for (const q of queue) this.#write(conn, q.buf, q.onError);
    };
    socket.once(this.kind === 'tls' ? 'secureConnect' : 'connect', onReady);
    socket.once('close', () => {
      this.#opts.timers.clearTimeout(timer);
      if (conn.queue.length > 0) this.counters.connectFailures++;
    });
    return conn;
  }

  close(): Promise<void> {
    this.#closing = true;
    for (const conn of [...this.#byId.values()]) conn.socket.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

/** '::ffff:127.0.0.1' → '127.0.0.1' so per-source counts and responses use one spelling. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
