import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type tls from 'node:tls';
import type { SocketFactory } from '../../common/sockets.ts';

/** A datagram a fake socket sent. */
export interface SentDatagram {
  readonly fromPort: number;
  readonly toAddress: string;
  readonly toPort: number;
  readonly bytes: Buffer;
}

/**
 * An in-memory UDP network for unit tests: sockets bind ports of one host (a port another
 * "process" holds fails to bind, as EADDRINUSE would), what they send is recorded, and a test
 * delivers datagrams to a bound port as if they came from `address:port`. No real sockets.
 */
export class FakeUdpNetwork {
  readonly #bound = new Map<number, FakeUdpSocket>();
  readonly #held = new Set<number>();
  readonly sent: SentDatagram[] = [];

  /** The factory to inject; only `udp` is implemented (media opens nothing else). */
  readonly sockets: SocketFactory = {
    udp: () => new FakeUdpSocket(this) as unknown as dgram.Socket,
    tcpServer: (): net.Server => {
      throw new Error('no TCP in the fake network');
    },
    tlsServer: (): tls.Server => {
      throw new Error('no TLS in the fake network');
    },
    tcpConnect: (): net.Socket => {
      throw new Error('no TCP in the fake network');
    },
    tlsConnect: (): tls.TLSSocket => {
      throw new Error('no TLS in the fake network');
    },
  };

  /** Another process holds `port`. */
  hold(port: number): void {
    this.#held.add(port);
  }

  /** Ports bound by fake sockets now. */
  get boundPorts(): number[] {
    return [...this.#bound.keys()].sort((a, b) => a - b);
  }

  /** Delivers a datagram to the socket bound on `port` (false: nothing is bound there). */
  deliver(port: number, bytes: Buffer, fromAddress: string, fromPort: number): boolean {
    const s = this.#bound.get(port);
    if (s === undefined) return false;
    s.emit('message', bytes, { address: fromAddress, family: 'IPv4', port: fromPort, size: bytes.length });
    return true;
  }

  /** @internal */
  bind(s: FakeUdpSocket, port: number): boolean {
    if (this.#bound.has(port) || this.#held.has(port)) return false;
    this.#bound.set(port, s);
    return true;
  }

  /** @internal */
  unbind(port: number, s: FakeUdpSocket): void {
    if (this.#bound.get(port) === s) this.#bound.delete(port);
  }
}

class FakeUdpSocket extends EventEmitter {
  readonly #net: FakeUdpNetwork;
  #port = 0;
  #closed = false;

  constructor(net: FakeUdpNetwork) {
    super();
    this.#net = net;
  }

  bind(port: number, _address: string, cb?: () => void): this {
    queueMicrotask(() => {
      if (this.#net.bind(this, port)) {
        this.#port = port;
        cb?.();
      } else this.emit('error', Object.assign(new Error('EADDRINUSE'), { code: 'EADDRINUSE' }));
    });
    return this;
  }

  address(): { address: string; family: string; port: number } {
    return { address: '127.0.0.1', family: 'IPv4', port: this.#port };
  }

  /** send(buf, port, address) or send(buf, offset, length, port, address). */
  send(buf: Buffer, ...rest: (number | string)[]): void {
    const [offset, length, port, address] = rest.length >= 4 ? (rest as [number, number, number, string]) : [0, buf.length, rest[0] as number, rest[1] as string];
    if (this.#closed) throw new Error('Not running');
    this.#net.sent.push({ fromPort: this.#port, toAddress: address, toPort: port, bytes: Buffer.from(buf.subarray(offset, offset + length)) });
  }

  close(): void {
    if (this.#closed) throw new Error('Not running');
    this.#closed = true;
    this.#net.unbind(this.#port, this);
  }
}
