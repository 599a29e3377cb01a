import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import type { SocketFactory } from '../../common/sockets.ts';
import { isIpv6 } from '../../common/sockets.ts';
import type { MediaWorkerOptions } from '../protocol.ts';
import type { Endpoint, EndpointInit, MediaPorts } from './endpoint.ts';
import { loadNativeAddon, NativeEndpoint, NativeMover } from './native-relay.ts';
import type { NativePorts } from './native-relay.ts';
import { bindSocketPair, closeSocketPair, PortPool } from './port-pool.ts';
import type { PortPair } from './port-pool.ts';
import { SocketEndpoint } from './socket-endpoint.ts';

/** What an endpoint is opened with, less its ports and clock (the backend adds those). */
export type EndpointSpec = Omit<EndpointInit<MediaPorts>, 'ports' | 'clock'>;

/**
 * What moves a worker's packets: Node sockets (SocketEndpoint), or the native mover
 * (NativeEndpoint) when it is built and the bind address is IPv4 — except endpoints whose packets
 * Carillon must read (SRTP, media functions), which the native backend also puts on Node sockets
 * (the mover does not look into packets). Both hand out port pairs from the worker's slice round
 * robin, skipping ports other processes hold.
 */
export interface RelayBackend {
  readonly kind: 'native' | 'sockets';
  readonly capacity: number;
  readonly inUse: number;
  readonly skipped: number;
  /** A port pair; `onSockets`: for an endpoint Carillon must read (on sockets, whatever the backend). */
  allocate(onSockets: boolean): Promise<MediaPorts | undefined>;
  release(p: MediaPorts): void;
  /** The endpoint on ports from `allocate`. */
  open(ports: MediaPorts, spec: EndpointSpec): Endpoint;
  close(): void;
}

export interface BackendDeps {
  readonly sockets: SocketFactory;
  readonly clock: Clock;
  readonly timers: Timers;
}

export function createRelayBackend(opts: MediaWorkerOptions, deps: BackendDeps): RelayBackend {
  const addon = opts.nativeRelay && !isIpv6(opts.bindAddress) ? loadNativeAddon() : undefined;
  return addon === undefined ? new SocketBackend(opts, deps) : new NativeBackend(opts, deps, new NativeMover(addon, pairsIn(opts) * 2 + 2));
}

function pairsIn(opts: MediaWorkerOptions): number {
  const first = opts.low % 2 === 0 ? opts.low : opts.low + 1;
  return Math.max(0, Math.floor((opts.high - first + 1) / 2));
}

class SocketBackend implements RelayBackend {
  readonly kind = 'sockets';
  readonly #pool: PortPool;
  readonly #pairs = new Map<number, PortPair>();
  readonly #clock: Clock;

  constructor(opts: MediaWorkerOptions, deps: BackendDeps) {
    this.#pool = new PortPool({ sockets: deps.sockets, bindAddress: opts.bindAddress, low: opts.low, high: opts.high });
    this.#clock = deps.clock;
  }

  get capacity(): number {
    return this.#pool.capacity;
  }
  get inUse(): number {
    return this.#pool.inUse;
  }
  get skipped(): number {
    return this.#pool.skipped;
  }

  async allocate(_onSockets: boolean): Promise<MediaPorts | undefined> {
    const p = await this.#pool.allocate();
    if (p !== undefined) this.#pairs.set(p.rtpPort, p);
    return p;
  }

  release(p: MediaPorts): void {
    const pair = this.#pairs.get(p.rtpPort);
    if (pair === undefined) return;
    this.#pairs.delete(p.rtpPort);
    this.#pool.release(pair);
  }

  open(ports: MediaPorts, spec: EndpointSpec): Endpoint {
    const pair = this.#pairs.get(ports.rtpPort);
    if (pair === undefined) throw new Error('ports not from this pool');
    return socketEndpoint(pair, spec, this.#clock);
  }

  close(): void {
    this.#pool.releaseAll();
    this.#pairs.clear();
  }
}

/** How often the native mover's rings are drained (statistics, DTMF, RTCP relaying). */
const DRAIN_MS = 10;

class NativeBackend implements RelayBackend {
  readonly kind = 'native';
  readonly capacity: number;
  skipped = 0;
  readonly #opts: MediaWorkerOptions;
  readonly #deps: BackendDeps;
  readonly #mover: NativeMover;
  /** Ports handed out: the mover's, or a socket pair for a secure stream. */
  readonly #inUse = new Map<number, NativePorts | PortPair | undefined>();
  readonly #first: number;
  #next = 0;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(opts: MediaWorkerOptions, deps: BackendDeps, mover: NativeMover) {
    this.#opts = opts;
    this.#deps = deps;
    this.#mover = mover;
    this.#first = opts.low % 2 === 0 ? opts.low : opts.low + 1;
    this.capacity = pairsIn(opts);
    this.#drainLoop();
  }

  get inUse(): number {
    return this.#inUse.size;
  }

  #drainLoop(): void {
    if (this.#closed) return;
    this.#timer = this.#deps.timers.setTimeout(() => {
      this.#mover.drain();
      this.#drainLoop();
    }, DRAIN_MS);
  }

  async allocate(onSockets: boolean): Promise<MediaPorts | undefined> {
    for (let tried = 0; tried < this.capacity; tried++) {
      const port = this.#first + 2 * this.#next;
      this.#next = (this.#next + 1) % this.capacity;
      if (this.#inUse.has(port)) continue;
      if (!onSockets) {
        const p = this.#mover.bind(this.#opts.bindAddress, port);
        if (p === undefined) {
          this.skipped++;
          continue;
        }
        this.#inUse.set(port, p);
        return p;
      }
      this.#inUse.set(port, undefined);
      const pair = this.#closed ? undefined : await bindSocketPair(this.#deps.sockets, this.#opts.bindAddress, port);
      if (pair !== undefined && !this.#closed) {
        this.#inUse.set(port, pair);
        return pair;
      }
      if (pair !== undefined) closeSocketPair(pair);
      this.#inUse.delete(port);
      if (this.#closed) return undefined;
      this.skipped++;
    }
    return undefined;
  }

  release(p: MediaPorts): void {
    const held = this.#inUse.get(p.rtpPort);
    if (held === undefined) return;
    this.#inUse.delete(p.rtpPort);
    if (isNative(held)) this.#mover.release(held);
    else closeSocketPair(held);
  }

  open(ports: MediaPorts, spec: EndpointSpec): Endpoint {
    const held = this.#inUse.get(ports.rtpPort);
    if (held === undefined) throw new Error('ports not from this backend');
    if (isNative(held)) return new NativeEndpoint({ ...spec, ports: held, clock: this.#deps.clock }, this.#mover);
    return socketEndpoint(held, spec, this.#deps.clock);
  }

  close(): void {
    this.#closed = true;
    this.#deps.timers.clearTimeout(this.#timer);
    this.#mover.drain();
    for (const p of [...this.#inUse.values()]) if (p !== undefined) this.release(p);
    this.#mover.destroy();
  }
}

function socketEndpoint(pair: PortPair, spec: EndpointSpec, clock: Clock): SocketEndpoint {
  const ep = new SocketEndpoint({ ...spec, ports: pair, clock });
  ep.listen();
  return ep;
}

function isNative(p: NativePorts | PortPair): p is NativePorts {
  return 'slot' in p;
}
