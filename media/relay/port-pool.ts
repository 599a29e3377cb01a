import type dgram from 'node:dgram';
import type { SocketFactory } from '../../common/sockets.ts';
import { isIpv6 } from '../../common/sockets.ts';

/** An RTP/RTCP socket pair on consecutive ports (RTP even, RTCP RTP + 1; RFC 3550 §11). */
export interface PortPair {
  readonly rtpPort: number;
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
}

export interface PortPoolOptions {
  readonly sockets: SocketFactory;
  readonly bindAddress: string;
  /** Inclusive range; the low end is rounded up to even. */
  readonly low: number;
  readonly high: number;
}

/**
 * Hands out RTP/RTCP port pairs from a range, round robin so a just-released port is not reused
 * at once (late packets of the old call), skipping ports other processes hold — never fatal.
 */
export class PortPool {
  readonly #opts: PortPoolOptions;
  readonly #inUse = new Map<number, PortPair | undefined>();
  #next: number;
  readonly #first: number;
  readonly #pairs: number;
  /** Pairs skipped because another process held a port (counted for metrics). */
  skipped = 0;

  constructor(opts: PortPoolOptions) {
    this.#opts = opts;
    this.#first = opts.low % 2 === 0 ? opts.low : opts.low + 1;
    this.#pairs = Math.max(0, Math.floor((opts.high - this.#first + 1) / 2));
    this.#next = 0;
  }

  /** Pairs in the range. */
  get capacity(): number {
    return this.#pairs;
  }

  /** Pairs handed out and not yet released. */
  get inUse(): number {
    return this.#inUse.size;
  }

  /** Binds the next free pair; undefined when every pair is taken or busy. */
  async allocate(): Promise<PortPair | undefined> {
    for (let tried = 0; tried < this.#pairs; tried++) {
      const port = this.#first + 2 * this.#next;
      this.#next = (this.#next + 1) % this.#pairs;
      if (this.#inUse.has(port)) continue;
      this.#inUse.set(port, undefined);
      const pair = await bindSocketPair(this.#opts.sockets, this.#opts.bindAddress, port);
      if (pair !== undefined) {
        this.#inUse.set(port, pair);
        return pair;
      }
      this.#inUse.delete(port);
      this.skipped++;
    }
    return undefined;
  }

  /** Closes the pair's sockets and returns its ports. Idempotent. */
  release(pair: PortPair): void {
    if (this.#inUse.delete(pair.rtpPort)) closeSocketPair(pair);
  }

  /** Closes every pair still handed out (shutdown). */
  releaseAll(): void {
    for (const pair of [...this.#inUse.values()]) if (pair !== undefined) this.release(pair);
  }
}

/** Binds RTP on `port` and RTCP on `port + 1` with Node sockets; undefined when either is taken. */
export async function bindSocketPair(sockets: SocketFactory, bindAddress: string, port: number): Promise<PortPair | undefined> {
  const rtp = await bindOne(sockets, bindAddress, port);
  const rtcp = rtp === undefined ? undefined : await bindOne(sockets, bindAddress, port + 1);
  if (rtp !== undefined && rtcp !== undefined) return { rtpPort: port, rtp, rtcp };
  rtp?.close();
  return undefined;
}

/** Closes both sockets of a pair (either may be closed already). */
export function closeSocketPair(pair: PortPair): void {
  for (const s of [pair.rtp, pair.rtcp]) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
}

function bindOne(sockets: SocketFactory, bindAddress: string, port: number): Promise<dgram.Socket | undefined> {
  const s = sockets.udp(isIpv6(bindAddress) ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    s.once('error', () => {
      try {
        s.close();
      } catch {
        // never bound
      }
      resolve(undefined);
    });
    s.bind(port, bindAddress, () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}
