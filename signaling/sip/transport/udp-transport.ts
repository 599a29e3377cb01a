import type dgram from 'node:dgram';
import type { SocketFactory } from '../../../common/sockets.ts';
import { isIpv6 } from '../../../common/sockets.ts';
import type { SendFailure, Source } from './types.ts';

export interface UdpTransportOptions {
  readonly sockets: SocketFactory;
  readonly bindAddress: string;
  readonly port: number;
  /** Called for every datagram; the Source object is fresh per datagram (the edge may keep it). */
  readonly onDatagram: (buf: Buffer, source: Source) => void;
  /** Kernel receive/send buffer size in bytes; bursts at high call rates need more than the default. */
  readonly bufferBytes?: number;
}

const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;

/** SIP over UDP (RFC 3261 §18): one socket, one datagram per message. */
export class UdpTransport {
  readonly #opts: UdpTransportOptions;
  #socket: dgram.Socket | undefined;
  #localAddress = '';
  #localPort = 0;
  /** Datagrams the socket refused to send (counted, never thrown). */
  sendErrors = 0;

  constructor(opts: UdpTransportOptions) {
    this.#opts = opts;
  }

  get localPort(): number {
    return this.#localPort;
  }

  get localAddress(): string {
    return this.#localAddress;
  }

  listen(): Promise<number> {
    const socket = this.#opts.sockets.udp(isIpv6(this.#opts.bindAddress) ? 'udp6' : 'udp4');
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind(this.#opts.port, this.#opts.bindAddress, () => {
        socket.off('error', onError);
        // A socket error after bind (e.g. ICMP-induced) must never take the process down.
        socket.on('error', () => {
          this.sendErrors++;
        });
        const bytes = this.#opts.bufferBytes ?? DEFAULT_BUFFER_BYTES;
        try {
          socket.setRecvBufferSize(bytes);
          socket.setSendBufferSize(bytes);
        } catch {
          // The kernel may cap buffer sizes; the defaults still work.
        }
        const addr = socket.address();
        this.#localAddress = addr.address;
        this.#localPort = addr.port;
        socket.on('message', (buf, rinfo) => {
          this.#opts.onDatagram(buf, {
            transport: 'udp',
            address: rinfo.address,
            port: rinfo.port,
            localAddress: this.#localAddress,
            localPort: this.#localPort,
          });
        });
        resolve(addr.port);
      });
    });
  }

  send(buf: Buffer, address: string, port: number, onError?: (f: SendFailure) => void): void {
    const socket = this.#socket;
    if (socket === undefined) {
      if (onError !== undefined) queueMicrotask(() => onError({ code: 'SEND_FAILED' }));
      return;
    }
    const done = (err: Error | null): void => {
      if (err === null) return;
      this.sendErrors++;
      onError?.({ code: 'SEND_FAILED' });
    };
    try {
      socket.send(buf, port, address, done);
    } catch {
      // dgram throws synchronously for a bad port or a closed socket: counted, never thrown on.
      this.sendErrors++;
      if (onError !== undefined) queueMicrotask(() => onError({ code: 'SEND_FAILED' }));
    }
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
