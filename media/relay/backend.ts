import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import type { SocketFactory } from '../../common/sockets.ts';
import { isIpv6 } from '../../common/sockets.ts';
import type { MediaWorkerOptions, PortRangeName } from '../protocol.ts';
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
  /**
   * A port pair from `range` ('main' unless the worker has an H.323 slice and it is asked for);
   * `onSockets`: for an endpoint Carillon must read (on sockets, whatever the backend).
   */
  allocate(onSockets: boolean, range?: PortRangeName): Promise<MediaPorts | undefined>;
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
  return addon === undefined ? new SocketBackend(opts, deps) : new NativeBackend(opts, deps, new NativeMover(addon, [...rangesOf(opts).values()].reduce((n, r) => n + pairsIn(r), 0) * 2 + 2));
}

function pairsIn(range: { readonly low: number; readonly high: number }): number {
  const first = range.low % 2 === 0 ? range.low : range.low + 1;
  return Math.max(0, Math.floor((range.high - first + 1) / 2));
}

/** The worker's slices, by name: the main range always, H.323's when configured. */
function rangesOf(opts: MediaWorkerOptions): Map<PortRangeName, { readonly low: number; readonly high: number }> {
  const m = new Map<PortRangeName, { readonly low: number; readonly high: number }>([['main', { low: opts.low, high: opts.high }]]);
  if (opts.h323 !== undefined) m.set('h323', opts.h323);
  return m;
}

/** Round robin over one range's pairs, so a just-released port is not reused at once. */
class RangeCursor {
  readonly capacity: number;
  readonly #first: number;
  #next = 0;

  constructor(range: { readonly low: number; readonly high: number }) {
    this.#first = range.low % 2 === 0 ? range.low : range.low + 1;
    this.capacity = pairsIn(range);
  }

  /** The next RTP port to try. */
  take(): number {
    const port = this.#first + 2 * this.#next;
    this.#next = (this.#next + 1) % this.capacity;
    return port;
  }
}

class SocketBackend implements RelayBackend {
  readonly kind = 'sockets';
  readonly #pools = new Map<PortRangeName, PortPool>();
  readonly #pairs = new Map<number, { pair: PortPair; pool: PortPool }>();
  readonly #clock: Clock;

  constructor(opts: MediaWorkerOptions, deps: BackendDeps) {
    for (const [name, r] of rangesOf(opts)) this.#pools.set(name, new PortPool({ sockets: deps.sockets, bindAddress: opts.bindAddress, low: r.low, high: r.high }));
    this.#clock = deps.clock;
  }

  #sum(f: (p: PortPool) => number): number {
    let n = 0;
    for (const p of this.#pools.values()) n += f(p);
    return n;
  }
  get capacity(): number {
    return this.#sum((p) => p.capacity);
  }
  get inUse(): number {
    return this.#sum((p) => p.inUse);
  }
  get skipped(): number {
    return this.#sum((p) => p.skipped);
  }

  async allocate(_onSockets: boolean, range: PortRangeName = 'main'): Promise<MediaPorts | undefined> {
    const pool = this.#pools.get(range) ?? this.#pools.get('main');
    const p = await pool?.allocate();
    if (p !== undefined && pool !== undefined) this.#pairs.set(p.rtpPort, { pair: p, pool });
    return p;
  }

  release(p: MediaPorts): void {
    const held = this.#pairs.get(p.rtpPort);
    if (held === undefined) return;
    this.#pairs.delete(p.rtpPort);
    held.pool.release(held.pair);
  }

  open(ports: MediaPorts, spec: EndpointSpec): Endpoint {
    const held = this.#pairs.get(ports.rtpPort);
    if (held === undefined) throw new Error('ports not from this pool');
    return socketEndpoint(held.pair, spec, this.#clock);
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.releaseAll();
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
  readonly #cursors = new Map<PortRangeName, RangeCursor>();
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(opts: MediaWorkerOptions, deps: BackendDeps, mover: NativeMover) {
    this.#opts = opts;
    this.#deps = deps;
    this.#mover = mover;
    let capacity = 0;
    for (const [name, r] of rangesOf(opts)) {
      const c = new RangeCursor(r);
      this.#cursors.set(name, c);
      capacity += c.capacity;
    }
    this.capacity = capacity;
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

  async allocate(onSockets: boolean, range: PortRangeName = 'main'): Promise<MediaPorts | undefined> {
    const cursor = this.#cursors.get(range) ?? this.#cursors.get('main');
    if (cursor === undefined) return undefined;
    for (let tried = 0; tried < cursor.capacity; tried++) {
      const port = cursor.take();
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
