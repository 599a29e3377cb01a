import type { Logger } from 'pino';
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import type { ConfigSnapshot, VoiceConnectorConfig } from '../../common/config-snapshot.ts';
import type { HopTransport, NextHop } from '../../common/route.ts';

/**
 * Keepalive probes (SIP: OPTIONS pings) to every origination route and carrier in the configuration (SPEC.md §4):
 * a target that misses `missesToDown` pings in a row is skipped by routing until it answers
 * again. Any final answer counts — a 404 or 503 to OPTIONS still proves the peer is there.
 */
/** Route health from OPTIONS pings: whether a route (by `host:port:protocol`) may be tried. */
export interface RouteHealthView {
  isUp(host: string, port: number, protocol: string): boolean;
}

export interface PingTarget {
  readonly host: string;
  readonly port: number;
  readonly protocol: string;
}

export interface RouteState {
  misses: number;
  lastPingMs: number | undefined;
  lastAnswerMs: number | undefined;
  lastStatus: number | undefined;
  inFlight: boolean;
}

export interface RouteHealthOptions {
  readonly snapshot: () => ConfigSnapshot;
  /**
   * Asks a hop whether its peer is there: the final status it answered, undefined when nothing
   * did (SIP: OPTIONS at each place RFC 3263 finds for it, in the order a call would try them).
   */
  readonly probe: (hop: NextHop) => Promise<number | undefined>;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly missesToDown?: number;
}

/** A configured protocol ('UDP', 'TCP', 'TLS') as a hop's transport (UDP when it is none of those). */
export function hopTransportOf(protocol: string): HopTransport {
  const p = protocol.toLowerCase();
  return p === 'tcp' ? 'tcp' : p === 'tls' ? 'tls' : 'udp';
}

const keyOf = (host: string, port: number, protocol: string): string => `${host.toLowerCase()}:${port}:${protocol.toUpperCase()}`;

export interface OriginationRoute extends PingTarget {
  readonly priority: number;
  readonly weight: number;
}

/**
 * A voice connector's origination routes as Carillon reaches them (none when origination is off).
 * A voice connector that requires encryption is reached over TLS whatever the route's Protocol
 * (Chime takes only TCP or UDP there), on 5061 unless the route names a port.
 */
export function originationRoutes(vc: VoiceConnectorConfig): OriginationRoute[] {
  const doc = vc.documents.origination;
  if (doc === undefined || doc.Disabled === true) return [];
  return (doc.Routes ?? []).map((r) => ({
    host: r.Host,
    // Chime's API takes Port 0–65535; 0 (like absent) means the transport's default.
    port: r.Port === undefined || r.Port === 0 ? (vc.requireEncryption ? 5061 : 5060) : r.Port,
    protocol: vc.requireEncryption ? 'TLS' : (r.Protocol ?? 'UDP'),
    priority: r.Priority ?? 1,
    weight: r.Weight ?? 1,
  }));
}

/** The routes and carriers a snapshot names, once each. */
export function pingTargets(snap: ConfigSnapshot): PingTarget[] {
  const out = new Map<string, PingTarget>();
  for (const vc of snap.voiceConnectors.values()) {
    for (const r of originationRoutes(vc)) out.set(keyOf(r.host, r.port, r.protocol), { host: r.host, port: r.port, protocol: r.protocol });
  }
  for (const c of snap.carriers) out.set(keyOf(c.host, c.port, c.protocol), { host: c.host, port: c.port, protocol: c.protocol });
  return [...out.values()];
}

export class RouteHealth implements RouteHealthView {
  readonly #opts: RouteHealthOptions;
  readonly #state = new Map<string, RouteState>();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(opts: RouteHealthOptions) {
    this.#opts = opts;
  }

  isUp(host: string, port: number, protocol: string): boolean {
    const s = this.#state.get(keyOf(host, port, protocol));
    return s === undefined || s.misses < (this.#opts.missesToDown ?? 3);
  }

  /** Every pinged target and whether routing may use it (for /metrics). */
  list(): { readonly target: string; readonly up: boolean; readonly lastStatus: number | undefined }[] {
    const down = this.#opts.missesToDown ?? 3;
    return [...this.#state].map(([target, s]) => ({ target, up: s.misses < down, lastStatus: s.lastStatus }));
  }

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#opts.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#stopped) return;
    const targets = pingTargets(this.#opts.snapshot());
    const live = new Set(targets.map((t) => keyOf(t.host, t.port, t.protocol)));
    for (const k of this.#state.keys()) if (!live.has(k)) this.#state.delete(k);
    for (const t of targets) void this.#pingOne(t);
    this.#timer = this.#opts.timers.setTimeout(() => this.#tick(), this.#opts.intervalMs);
  }

  async #pingOne(t: PingTarget): Promise<void> {
    const key = keyOf(t.host, t.port, t.protocol);
    let s = this.#state.get(key);
    if (s === undefined) {
      s = { misses: 0, lastPingMs: undefined, lastAnswerMs: undefined, lastStatus: undefined, inFlight: false };
      this.#state.set(key, s);
    }
    if (s.inFlight) return;
    s.inFlight = true;
    s.lastPingMs = this.#opts.clock.nowMs();
    let status: number | undefined;
    try {
      // The route is up when any of its addresses answers.
      status = await this.#opts.probe({ transport: hopTransportOf(t.protocol), host: t.host, port: t.port, user: undefined, headers: [] });
    } catch {
      status = undefined;
    }
    s.inFlight = false;
    const wasUp = this.isUp(t.host, t.port, t.protocol);
    if (status === undefined) {
      s.misses++;
    } else {
      s.misses = 0;
      s.lastAnswerMs = this.#opts.clock.nowMs();
      s.lastStatus = status;
    }
    const up = this.isUp(t.host, t.port, t.protocol);
    if (up !== wasUp) this.#opts.logger.info({ route: key, up, status }, up ? 'route answers OPTIONS again' : 'route missed OPTIONS pings: skipped until it answers');
  }
}
