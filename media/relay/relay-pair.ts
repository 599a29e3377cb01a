import type dgram from 'node:dgram';
import type { Clock } from '../../common/clock.ts';
import { DtmfDetector } from '../dtmf/telephone-event.ts';
import { createRtcpSummary, readRtcpCompound } from '../rtcp/compound.ts';
import type { DlrrSubBlock } from '../rtcp/compound.ts';
import type { ReportBlock } from '../rtcp/report-block.ts';
import { StreamStats } from '../quality/stream-stats.ts';
import { createRtpHeader, isRtcpPayloadType, parseRtpInto, rewriteRtpInPlace } from '../rtp/rtp-header.ts';
import type { PortPair } from './port-pool.ts';
import { SrtpContext } from '../srtp/srtp.ts';
import type { SrtpMasterKey } from '../srtp/srtp.ts';
import type { SrtpLeg } from '../protocol.ts';
import type { AudioTap } from '../stream/audio-tap.ts';

/** What a side knows of its ports, whatever moves the packets (sockets here, or the native mover). */
export interface MediaPorts {
  readonly rtpPort: number;
}

/** Counters of one direction (read at scrape/record time, STYLE.md 13). */
export interface DirectionCounters {
  rtpPackets: number;
  rtpBytes: number;
  rtcpPackets: number;
  rtcpBytes: number;
  /** Datagrams that were neither RTP nor RTCP, came from a stranger, or had nowhere to go. */
  dropped: number;
}

function counters(): DirectionCounters {
  return { rtpPackets: 0, rtpBytes: 0, rtcpPackets: 0, rtcpBytes: 0, dropped: 0 };
}

/** SRs sent toward a side (relayed or Carillon's own), remembered to time that side's answers. */
const RELAYED_SR_SLOTS = 4;

/**
 * One side of an anchored stream: the RTP/RTCP ports Carillon opened toward an endpoint, where
 * that endpoint receives (from its SDP, then latched from what it actually sends), what has come
 * in from it, what Carillon sent it, and what it reported about that in RTCP.
 */
export class RelaySide<P extends MediaPorts = MediaPorts> {
  readonly ports: P;
  /** Where this side's endpoint receives RTP; RTCP goes to peerRtcpPort. */
  peerAddress: string | undefined;
  peerPort = 0;
  peerRtcpPort = 0;
  rtcpMux = false;
  /** What the endpoint's SDP last said (latching overrides it until the SDP changes). */
  sdpAddress: string | undefined;
  sdpPort = 0;
  /** Whether the peer address was learnt from received packets (symmetric RTP, NAT). */
  latched = false;
  /** Strict mode: accept and send only to the SDP address, never latch. */
  readonly strict: boolean;
  /** From this endpoint into Carillon. */
  readonly received: DirectionCounters = counters();
  /** From Carillon to this endpoint (relayed packets and Carillon's own RTCP). */
  readonly sent: DirectionCounters = counters();
  /** Receive statistics of the current source (replaced when the endpoint changes SSRC). */
  stats: StreamStats;
  /** Expected/received packets of earlier sources of this endpoint (loss stays cumulative). */
  priorExpected = 0;
  priorReceived = 0;
  /** Times the latched source changed (re-latching on a new SSRC). */
  relatches = 0;
  lastSsrc = -1;
  /** Monotonic ms of the last RTP packet from this endpoint (-1: none yet). */
  lastRtpMs = -1;
  /** The endpoint's SDP direction says it is on hold (sendonly/inactive, or no address). */
  hold = false;
  /** Payload types that carry telephone-event on this side (bit per type 0–127 in two words). */
  dtmfPtLow = 0;
  dtmfPtHigh = 0;
  readonly dtmf = new DtmfDetector();
  /** Carillon's own RTCP sent to this endpoint (also inside `sent`). */
  ownRtcpPackets = 0;
  ownRtcpBytes = 0;
  /** Carillon's own SSRC in the RTCP it sends this endpoint. */
  ownSsrc: number;
  nextRtcpMs = 0;
  /** The endpoint's last SR: NTP middle-32 and local arrival (for LSR/DLSR in our reports). */
  peerSrMiddle32 = 0;
  peerSrArrivalMs = 0;
  /** What the endpoint reported (RTCP) about the stream Carillon sends it; -1 = never reported. */
  reportedCumulativeLost = -1;
  reportedFractionLost = -1;
  reportedJitterUnits = -1;
  /** Last round-trip time between Carillon and this endpoint, µs (-1 = not measured). */
  rttUs = -1;
  readonly srSentMiddle = new Float64Array(RELAYED_SR_SLOTS);
  readonly srSentMs = new Float64Array(RELAYED_SR_SLOTS);
  srSentNext = 0;
  /** When an SR from the other endpoint was last relayed to this one (-1: never). */
  lastRelayedSrMs = -1;
  /** SRTP on this leg: unprotects what the endpoint sends, protects what Carillon sends it (absent: plain RTP). */
  srtpIn: SrtpContext | undefined;
  srtpOut: SrtpContext | undefined;
  #srtpKeys = '';
  /** What this endpoint sends, decoded into fragments for streaming (absent: not streamed). */
  tap: AudioTap | undefined;
  /** SSRC continuity: after the endpoint changes SSRC, rewrite to keep the first one. */
  rewrite = false;
  outSsrc = -1;
  seqOffset = 0;
  tsOffset = 0;
  lastOutSeq = 0;
  lastOutTs = 0;
  lastTsStep: number;

  constructor(ports: P, clockRateHz: number, strict: boolean, ownSsrc = 0) {
    this.ports = ports;
    this.stats = new StreamStats(clockRateHz);
    this.lastTsStep = Math.round(clockRateHz / 50);
    this.strict = strict;
    this.ownSsrc = ownSsrc >>> 0;
  }

  /** Sets where the endpoint said it receives (SDP c=/m=/a=rtcp). */
  setRemote(address: string | undefined, port: number, rtcpPort: number, rtcpMux = false): void {
    this.rtcpMux = rtcpMux;
    // A new SDP address (re-INVITE to another endpoint) drops what was latched: media goes there
    // until the new endpoint's own packets teach its real source. The same SDP again keeps the latch.
    const changed = address !== this.sdpAddress || port !== this.sdpPort;
    this.sdpAddress = address;
    this.sdpPort = port;
    if (this.latched && !this.strict && address !== undefined && !changed) return;
    this.latched = false;
    this.peerAddress = address;
    this.peerPort = port;
    this.peerRtcpPort = rtcpMux ? port : rtcpPort;
  }

  /** Sets (or clears) the leg's SRTP keys; the same keys again keep the contexts and their rollover counters. */
  setSrtp(leg: SrtpLeg | undefined): void {
    const id = leg === undefined ? '' : `${leg.suite} ${leg.receiveKey} ${leg.sendKey}`;
    if (id === this.#srtpKeys) return;
    this.#srtpKeys = id;
    const master = (b64: string): SrtpMasterKey => {
      const raw = Buffer.from(b64, 'base64');
      return { key: raw.subarray(0, 16), salt: raw.subarray(16, 30) };
    };
    this.srtpIn = leg === undefined ? undefined : new SrtpContext(leg.suite, master(leg.receiveKey));
    this.srtpOut = leg === undefined ? undefined : new SrtpContext(leg.suite, master(leg.sendKey));
  }

  setDtmfPayloadTypes(pts: readonly number[]): void {
    this.dtmfPtLow = 0;
    this.dtmfPtHigh = 0;
    for (const pt of pts) {
      if (pt < 32) this.dtmfPtLow |= 1 << pt;
      else if (pt >= 96 && pt < 128) this.dtmfPtHigh |= 1 << (pt - 96);
    }
  }

  /** Packets lost so far from this endpoint, across source changes. */
  get packetsLost(): number {
    return this.priorExpected - this.priorReceived + this.stats.cumulativeLost;
  }

  get packetsExpected(): number {
    return this.priorExpected + this.stats.expected;
  }

  /** Remembers an SR (NTP middle-32) that reached this endpoint at `atMs`: its LSR answer gives the RTT. */
  rememberSr(middle32: number, atMs: number): void {
    const slot = this.srSentNext;
    this.srSentMiddle[slot] = middle32;
    this.srSentMs[slot] = atMs;
    this.srSentNext = (slot + 1) % RELAYED_SR_SLOTS;
  }

  /** The SSRC of the stream Carillon forwards to this endpoint, or -1. */
  forwardedSsrc(other: RelaySide<MediaPorts>): number {
    return other.rewrite ? other.outSsrc : other.lastSsrc;
  }

  isDtmf(pt: number): boolean {
    if (pt < 32) return (this.dtmfPtLow & (1 << pt)) !== 0;
    return pt >= 96 && (this.dtmfPtHigh & (1 << (pt - 96))) !== 0;
  }
}

/** Called (rarely) when a DTMF digit completes on a side. */
export type DtmfListener = (from: RelaySide, event: number, durationUnits: number) => void;

/**
 * What every relay of one stream shares, however its packets move: per-packet statistics, DTMF
 * and activity, RTCP reading (RTT, what each endpoint reports) and relaying, SSRC continuity
 * state, and Carillon's NTP clock. Subclasses move the datagrams.
 */
export abstract class MediaRelay<P extends MediaPorts = MediaPorts> {
  readonly a: RelaySide<P>;
  readonly b: RelaySide<P>;
  protected readonly clock: Clock;
  readonly #rtcp = createRtcpSummary();
  /** Wall-clock ms at monotonic 0: Carillon's NTP times are wallBase + mono, so RTT math is monotonic. */
  readonly #wallBaseMs: number;
  onDtmf: DtmfListener | undefined;
  #closed = false;

  constructor(a: RelaySide<P>, b: RelaySide<P>, clock: Clock) {
    this.a = a;
    this.b = b;
    this.clock = clock;
    this.#wallBaseMs = clock.nowMs() - clock.monoMs();
  }

  /** Carillon's NTP-clock time in Unix ms (monotonic underneath). */
  ntpUnixMs(): number {
    return this.#wallBaseMs + this.clock.monoMs();
  }

  /** Whether this relay can decrypt and encrypt SRTP (it sees every packet). */
  abstract readonly carriesSrtp: boolean;

  /** Sends a datagram out of `side`'s RTP (or RTCP) port to `address:port`. */
  abstract sendFrom(side: RelaySide<P>, buf: Buffer, len: number, viaRtcp: boolean, port: number, address: string): void;

  /** A side's SDP changed (`side.setRemote` ran): tell whatever moves the packets. */
  remoteChanged(_side: RelaySide<P>): void {
    // the socket relay reads the side itself
  }

  /** Brings the sides' counters and peers up to date (a no-op where the sides are the truth). */
  sync(): void {
    // sides are updated per packet
  }

  /** Statistics, DTMF and activity for one accepted RTP packet from `from`. */
  protected noteRtp(from: RelaySide<P>, seq: number, ts: number, pt: number, payloadLength: number, firstWord: number, nowMs: number): void {
    from.lastRtpMs = nowMs;
    const dtmf = from.isDtmf(pt);
    from.stats.update(seq, ts, nowMs, payloadLength, !dtmf);
    if (dtmf && payloadLength >= 4) {
      const ev = from.dtmf.onWord(firstWord, ts);
      if (ev >= 0 && this.onDtmf !== undefined) this.onDtmf(from, ev, from.dtmf.lastDurationUnits);
    }
  }

  /**
   * An RTCP compound from `from`'s endpoint that arrived at `atMs`: read it, learn from it, and
   * relay it to `to` (unless `relayed`: the native mover already did, on arrival).
   */
  protected handleRtcp(from: RelaySide<P>, to: RelaySide<P>, buf: Buffer, len: number, address: string, port: number, muxed: boolean, atMs: number, relayed = false): void {
    if (from.peerAddress !== undefined && from.strict && address !== from.peerAddress) {
      from.received.dropped++;
      return;
    }
    const s = this.#rtcp;
    if (!readRtcpCompound(buf, len, s)) {
      from.received.dropped++;
      return;
    }
    if (!from.strict && !muxed && from.latched && address === from.peerAddress) from.peerRtcpPort = port;
    from.received.rtcpPackets++;
    from.received.rtcpBytes += len;
    this.#learnFromRtcp(from, to, atMs);
    if (to.peerAddress === undefined) return;
    if (s.hasSr) to.lastRelayedSrMs = atMs;
    if (relayed) return;
    to.sent.rtcpPackets++;
    to.sent.rtcpBytes += len;
    if (to.rtcpMux) this.sendFrom(to, buf, len, false, to.peerPort, to.peerAddress);
    else this.sendFrom(to, buf, len, true, to.peerRtcpPort, to.peerAddress);
  }
  /**
   * RTT and the endpoint's view of what it receives, from the compound just read. The RTT of a
   * leg needs no clock agreement: Carillon remembers when each SR (relayed or its own) reached
   * the endpoint, and the endpoint's LSR/DLSR answer to it closes the loop (RFC 3550 §6.4.1).
   */
  #learnFromRtcp(from: RelaySide<P>, to: RelaySide<P>, now: number): void {
    const s = this.#rtcp;
    if (s.hasSr) {
      from.peerSrMiddle32 = s.srMiddle32;
      from.peerSrArrivalMs = now;
      // The SR goes on to `to`; its answer from there times the `to` leg.
      if (to.peerAddress !== undefined) to.rememberSr(s.srMiddle32, now);
    }
    const forwarded = from.forwardedSsrc(to) >>> 0;
    for (let i = 0; i < s.blockCount; i++) {
      const blk = s.blocks[i] as ReportBlock;
      if (blk.lsr !== 0) this.#rtt(from, blk.lsr, blk.dlsr, now);
      if (blk.ssrc === forwarded) {
        from.reportedCumulativeLost = blk.cumulativeLost;
        from.reportedFractionLost = blk.fractionLost;
        from.reportedJitterUnits = blk.jitter;
      }
    }
    for (let i = 0; i < s.dlrrCount; i++) {
      const d = s.dlrr[i] as DlrrSubBlock;
      if (d.lrr !== 0) this.#rtt(from, d.lrr, d.dlrr, now);
    }
  }

  #rtt(side: RelaySide<P>, lsr: number, dlsr: number, nowMono: number): void {
    for (let k = 0; k < RELAYED_SR_SLOTS; k++) {
      if (side.srSentMiddle[k] !== lsr) continue;
      const us = (nowMono - (side.srSentMs[k] as number)) * 1000 - (dlsr * 1_000_000) / 65536;
      if (us > 0 && us < 10_000_000) side.rttUs = us;
      return;
    }
  }


  get closed(): boolean {
    return this.#closed;
  }

  /** Stops relaying (the owner releases the ports). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.detach();
  }

  protected abstract detach(): void;
}

/** A new SSRC from an endpoint: keep the stream the other side sees continuous (seq/ts of the new source's first packet). */
export function newSource(side: RelaySide<MediaPorts>, ssrc: number, seq: number, ts: number): void {
  if (side.lastSsrc !== -1) {
    if (!side.rewrite) {
      side.rewrite = true;
      side.outSsrc = side.lastSsrc;
    }
    side.seqOffset = (side.lastOutSeq + 1 - seq) & 0xffff;
    side.tsOffset = (side.lastOutTs + side.lastTsStep - ts) >>> 0;
    side.priorExpected += side.stats.expected;
    side.priorReceived += side.stats.received;
    side.stats = new StreamStats(side.stats.clockRateHz);
  }
  side.lastSsrc = ssrc;
}

/**
 * Relays one media stream between two endpoints through Carillon's own sockets (STYLE.md 3–4):
 * the handler reads the header in place into a struct reused for every packet, counts, latches,
 * and sends the very Buffer it received on the other side's socket. No logging, no per-packet
 * objects of ours.
 */
export class RelayPair extends MediaRelay<PortPair> {
  readonly carriesSrtp = true;
  readonly #header = createRtpHeader();

  constructor(a: RelaySide<PortPair>, b: RelaySide<PortPair>, clock: Clock) {
    super(a, b, clock);
    this.#wire(a, b);
    this.#wire(b, a);
  }

  /** RTCP (relayed, or Carillon's own) to a side, as SRTCP when the leg is secure. */
  sendFrom(side: RelaySide<PortPair>, buf: Buffer, len: number, viaRtcp: boolean, port: number, address: string): void {
    // dgram throws on a port outside 1–65535; a peer's SDP or source decides this one.
    if (port < 1 || port > 65535) return;
    const sock = viaRtcp ? side.ports.rtcp : side.ports.rtp;
    if (side.srtpOut === undefined) return sock.send(buf, 0, len, port, address);
    const out = side.srtpOut.protectRtcp(buf.subarray(0, len));
    if (out !== undefined) sock.send(out, port, address);
  }

  #wire(from: RelaySide<PortPair>, to: RelaySide<PortPair>): void {
    from.ports.rtp.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => this.#onRtp(from, to, buf, rinfo));
    from.ports.rtcp.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => this.#onRtcp(from, to, buf, rinfo, false));
  }

  /** RTCP from a side (SRTCP checked and decrypted first on a secure leg). */
  #onRtcp(from: RelaySide<PortPair>, to: RelaySide<PortPair>, wire: Buffer, rinfo: dgram.RemoteInfo, muxed: boolean): void {
    let buf = wire;
    if (from.srtpIn !== undefined) {
      const r = from.srtpIn.unprotectRtcp(wire);
      if (!r.ok) {
        from.received.dropped++;
        return;
      }
      buf = r.packet;
    }
    this.handleRtcp(from, to, buf, buf.length, rinfo.address, rinfo.port, muxed, this.clock.monoMs());
  }

  #onRtp(from: RelaySide<PortPair>, to: RelaySide<PortPair>, wire: Buffer, rinfo: dgram.RemoteInfo): void {
    if (isRtcpPayloadType(wire, wire.length)) {
      // rtcp-mux (RFC 5761): RTCP arrives on the RTP port.
      this.#onRtcp(from, to, wire, rinfo, true);
      return;
    }
    // A secure leg: authenticate and decrypt first (a forgery or replay is dropped, counted).
    let buf = wire;
    if (from.srtpIn !== undefined) {
      const r = from.srtpIn.unprotectRtp(wire);
      if (!r.ok) {
        from.received.dropped++;
        return;
      }
      buf = r.packet;
    }
    const len = buf.length;
    const h = this.#header;
    if (parseRtpInto(buf, len, h) !== undefined || !this.#accept(from, rinfo, h.ssrc)) {
      from.received.dropped++;
      return;
    }
    from.received.rtpPackets++;
    from.received.rtpBytes += len;
    this.noteRtp(from, h.sequence, h.timestamp, h.payloadType, h.payloadLength, h.payloadLength >= 4 ? buf.readUInt32BE(h.payloadOffset) : 0, this.clock.monoMs());
    // Streamed on the continuous timeline the receiver sees (across the endpoint's SSRC changes).
    from.tap?.write(buf, h.payloadOffset, h.payloadLength, h.payloadType, from.rewrite ? (h.timestamp + from.tsOffset) >>> 0 : h.timestamp, this.clock.nowMs());
    if (to.peerAddress === undefined) {
      from.received.dropped++;
      return;
    }
    if (from.rewrite) this.#rewrite(from, buf, h.sequence, h.timestamp);
    else {
      from.lastOutSeq = h.sequence;
      from.lastOutTs = h.timestamp;
    }
    to.sent.rtpPackets++;
    to.sent.rtpBytes += len;
    const out = to.srtpOut === undefined ? buf : to.srtpOut.protectRtp(buf);
    if (out !== undefined) to.ports.rtp.send(out, to.peerPort, to.peerAddress);
  }

  /** SSRC/sequence/timestamp continuity (the receiver sees one stream across a source change). */
  #rewrite(side: RelaySide<PortPair>, buf: Buffer, seq: number, ts: number): void {
    const outSeq = (seq + side.seqOffset) & 0xffff;
    const outTs = (ts + side.tsOffset) >>> 0;
    rewriteRtpInPlace(buf, outSeq, outTs, side.outSsrc);
    side.lastOutSeq = outSeq;
    side.lastOutTs = outTs;
  }

  /**
   * Symmetric RTP latching: the first packets (and a new SSRC) teach where the endpoint really
   * is, so media goes back to the NAT binding it sends from, not to the private SDP address.
   */
  #accept(side: RelaySide<PortPair>, rinfo: dgram.RemoteInfo, ssrc: number): boolean {
    const h = this.#header;
    if (side.strict) {
      if (side.peerAddress !== undefined && (rinfo.address !== side.peerAddress || rinfo.port !== side.peerPort)) return false;
      if (ssrc !== side.lastSsrc) newSource(side, ssrc, h.sequence, h.timestamp);
      return true;
    }
    if (!side.latched || ssrc !== side.lastSsrc) {
      if (side.latched && (rinfo.address !== side.peerAddress || rinfo.port !== side.peerPort)) side.relatches++;
      side.peerAddress = rinfo.address;
      side.peerPort = rinfo.port;
      // RTCP on the next port (RFC 3550 §11) — none when RTP came from the top port.
      side.peerRtcpPort = side.rtcpMux ? rinfo.port : rinfo.port < 65535 ? rinfo.port + 1 : 0;
      side.latched = true;
      if (ssrc !== side.lastSsrc) newSource(side, ssrc, h.sequence, h.timestamp);
      return true;
    }
    return rinfo.address === side.peerAddress && rinfo.port === side.peerPort;
  }

  protected detach(): void {
    for (const s of [this.a, this.b]) {
      s.ports.rtp.removeAllListeners('message');
      s.ports.rtcp.removeAllListeners('message');
    }
  }
}
