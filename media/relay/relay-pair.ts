import type dgram from 'node:dgram';
import type { Clock } from '../../common/clock.ts';
import { StreamStats } from '../quality/stream-stats.ts';
import { createRtpHeader, isRtcpPayloadType, parseRtpInto } from '../rtp/rtp-header.ts';
import type { PortPair } from './port-pool.ts';

/** Counters of one direction into Carillon (read at scrape/record time, STYLE.md 13). */
export interface DirectionCounters {
  rtpPackets: number;
  rtpBytes: number;
  rtcpPackets: number;
  rtcpBytes: number;
  /** Datagrams that were neither RTP nor RTCP, or came before a destination was known. */
  dropped: number;
}

/**
 * One side of an anchored stream: the RTP/RTCP ports Carillon opened toward an endpoint, where
 * that endpoint receives (from its SDP, then latched from what it actually sends), and what has
 * come in from it.
 */
export class RelaySide {
  readonly ports: PortPair;
  /** Where this side's endpoint receives RTP; RTCP goes to rtcpPort. */
  peerAddress: string | undefined;
  peerPort = 0;
  peerRtcpPort = 0;
  /** Whether the peer address was learnt from received packets (symmetric RTP, NAT). */
  latched = false;
  /** Strict mode: accept and send only to the SDP address, never latch. */
  readonly strict: boolean;
  readonly received: DirectionCounters = { rtpPackets: 0, rtpBytes: 0, rtcpPackets: 0, rtcpBytes: 0, dropped: 0 };
  readonly stats: StreamStats;
  /** Times the latched source changed (re-latching on a new SSRC). */
  relatches = 0;
  lastSsrc = -1;

  constructor(ports: PortPair, clockRateHz: number, strict: boolean) {
    this.ports = ports;
    this.stats = new StreamStats(clockRateHz);
    this.strict = strict;
  }

  /** Sets where the endpoint said it receives (SDP c=/m=/a=rtcp). */
  setRemote(address: string, port: number, rtcpPort: number): void {
    if (this.latched && !this.strict) return;
    this.peerAddress = address;
    this.peerPort = port;
    this.peerRtcpPort = rtcpPort;
  }
}

/**
 * Relays one media stream between two endpoints through Carillon's ports (STYLE.md 3–4): the
 * handler reads the header in place into a struct reused for every packet, counts, latches, and
 * sends the very Buffer it received on the other side's socket. No logging, no per-packet objects
 * of ours.
 */
export class RelayPair {
  readonly a: RelaySide;
  readonly b: RelaySide;
  readonly #clock: Clock;
  readonly #header = createRtpHeader();
  #closed = false;

  constructor(a: RelaySide, b: RelaySide, clock: Clock) {
    this.a = a;
    this.b = b;
    this.#clock = clock;
    this.#wire(a, b);
    this.#wire(b, a);
  }

  #wire(from: RelaySide, to: RelaySide): void {
    from.ports.rtp.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => this.#onRtp(from, to, buf, rinfo));
    from.ports.rtcp.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => this.#onRtcp(from, to, buf, rinfo));
  }

  #onRtp(from: RelaySide, to: RelaySide, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const len = buf.length;
    if (isRtcpPayloadType(buf, len)) {
      // rtcp-mux (RFC 5761): RTCP arrives on the RTP port.
      this.#countRtcp(from, to, buf, rinfo, true);
      return;
    }
    const h = this.#header;
    if (parseRtpInto(buf, len, h) !== undefined || !this.#accept(from, rinfo, h.ssrc)) {
      from.received.dropped++;
      return;
    }
    from.received.rtpPackets++;
    from.received.rtpBytes += len;
    from.stats.update(h.sequence, h.timestamp, this.#clock.monoMs(), h.payloadLength);
    if (to.peerAddress === undefined) {
      from.received.dropped++;
      return;
    }
    to.ports.rtp.send(buf, to.peerPort, to.peerAddress);
  }

  #onRtcp(from: RelaySide, to: RelaySide, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#countRtcp(from, to, buf, rinfo, false);
  }

  #countRtcp(from: RelaySide, to: RelaySide, buf: Buffer, rinfo: dgram.RemoteInfo, muxed: boolean): void {
    if (from.peerAddress !== undefined && from.strict && rinfo.address !== from.peerAddress) {
      from.received.dropped++;
      return;
    }
    from.received.rtcpPackets++;
    from.received.rtcpBytes += buf.length;
    if (to.peerAddress === undefined) return;
    if (muxed) to.ports.rtp.send(buf, to.peerPort, to.peerAddress);
    else to.ports.rtcp.send(buf, to.peerRtcpPort, to.peerAddress);
  }

  /**
   * Symmetric RTP latching: the first packets (and a new SSRC) teach where the endpoint really
   * is, so media goes back to the NAT binding it sends from, not to the private SDP address.
   */
  #accept(side: RelaySide, rinfo: dgram.RemoteInfo, ssrc: number): boolean {
    if (side.strict) return side.peerAddress === undefined || (rinfo.address === side.peerAddress && rinfo.port === side.peerPort);
    if (!side.latched || ssrc !== side.lastSsrc) {
      if (side.latched && (rinfo.address !== side.peerAddress || rinfo.port !== side.peerPort)) side.relatches++;
      side.peerAddress = rinfo.address;
      side.peerPort = rinfo.port;
      side.peerRtcpPort = rinfo.port + 1;
      side.latched = true;
      side.lastSsrc = ssrc;
      return true;
    }
    return rinfo.address === side.peerAddress && rinfo.port === side.peerPort;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops relaying (the owner releases the ports to the pool). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [this.a, this.b]) {
      s.ports.rtp.removeAllListeners('message');
      s.ports.rtcp.removeAllListeners('message');
    }
  }
}
