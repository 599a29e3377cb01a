import type { Clock } from '../../common/clock.ts';
import type { RemoteMedia, SrtpLeg } from '../protocol.ts';
import { createRtcpSummary, readRtcpCompound } from '../rtcp/compound.ts';
import type { FeedbackSummary } from '../rtcp/feedback.ts';
import type { RtpHeader } from '../rtp/rtp-header.ts';
import { SrtpContext } from '../srtp/srtp.ts';
import type { SrtpMasterKey } from '../srtp/srtp.ts';
import { EndpointStats } from './endpoint-stats.ts';
import { Latch } from './latching.ts';
import { RtcpState } from './rtcp-state.ts';
import { SsrcContinuity } from './ssrc-continuity.ts';

/** What an endpoint knows of its ports, whatever moves the packets (sockets, or the native mover). */
export interface MediaPorts {
  readonly rtpPort: number;
}

/**
 * A media function inside the worker, attached to one endpoint (the audio tap, a meeting
 * participant): it receives every RTP packet the endpoint's far end sends, decrypted, and may send
 * on the endpoint with `Endpoint.sendRtp`. Called on the packet path: it must not keep `buf` or
 * allocate per packet.
 */
export interface MediaFunction {
  /**
   * `h` is the parsed header of `buf`; `ts` the timestamp on the continuous timeline the receiver
   * sees. Answers whether it took the packet: a packet some function took is not counted dropped
   * on an endpoint connected to nothing.
   */
  onRtp(buf: Buffer, h: RtpHeader, ts: number, wallMs: number): boolean;
  /** RTCP feedback (RFC 4585) the far end sent: key-frame requests, bandwidth limits. Rare; optional. */
  onFeedback?(fb: FeedbackSummary): void;
  /** Housekeeping at wall time `wallMs` (the worker's tick). */
  tick(wallMs: number): void;
  /** The endpoint closes (idempotent): what is left goes out. */
  close(): void;
}

/** Called (rarely) when a DTMF digit completes on an endpoint. */
export type DtmfListener = (event: number, durationUnits: number) => void;

/** One leg's SRTP contexts: unprotect what the endpoint sends, protect what Carillon sends it. Written only by `set`. */
export class SrtpState {
  in: SrtpContext | undefined;
  out: SrtpContext | undefined;
  #keys = '';

  /** Sets (or clears) the keys; the same keys again keep the contexts and their rollover counters. */
  set(leg: SrtpLeg | undefined): void {
    const id = leg === undefined ? '' : `${leg.suite} ${leg.receiveKey} ${leg.sendKey}`;
    if (id === this.#keys) return;
    this.#keys = id;
    const master = (b64: string): SrtpMasterKey => {
      const raw = Buffer.from(b64, 'base64');
      return { key: raw.subarray(0, 16), salt: raw.subarray(16, 30) };
    };
    this.in = leg === undefined ? undefined : new SrtpContext(leg.suite, master(leg.receiveKey));
    this.out = leg === undefined ? undefined : new SrtpContext(leg.suite, master(leg.sendKey));
  }
}

export interface EndpointInit<P extends MediaPorts> {
  readonly id: string;
  readonly kind: string;
  readonly clockRateHz: number;
  /** Codec name from the SDP rtpmap (upper case, e.g. PCMU, G729), when known. */
  readonly codec: string | undefined;
  readonly ports: P;
  readonly strict: boolean;
  /** Carillon's own SSRC toward this endpoint. */
  readonly ownSsrc: number;
  readonly clock: Clock;
}

/** One summary reused for every RTCP compound any endpoint reads (the worker is one thread). */
const rtcpSummary = createRtcpSummary();

/**
 * One media endpoint: the RTP/RTCP port pair Carillon opened toward one far end, and what it owns,
 * each part written by one module — where the far end receives and latching (`latch`), SSRC
 * continuity of what is forwarded from it (`continuity`), counters, receive statistics and DTMF
 * (`stats`), its RTCP (`rtcp`), SRTP (`srtp`). An endpoint may be connected to one other endpoint
 * (`peer`: packets relay between the two) and carry media functions. Subclasses move the datagrams.
 */
export abstract class Endpoint<P extends MediaPorts = MediaPorts> {
  readonly id: string;
  readonly kind: string;
  readonly clockRateHz: number;
  readonly codec: string | undefined;
  readonly ports: P;
  readonly latch: Latch;
  readonly continuity: SsrcContinuity;
  readonly stats: EndpointStats;
  readonly rtcp: RtcpState;
  readonly srtp = new SrtpState();
  readonly functions: MediaFunction[] = [];
  protected readonly clock: Clock;
  /** The endpoint's SDP direction says it is on hold (sendonly/inactive, or no address). */
  hold = false;
  /** Payload types that carry telephone-event (bit per type 0–127 in two words). */
  #dtmfPtLow = 0;
  #dtmfPtHigh = 0;
  /** The endpoint packets relay to and from (set by `connect`). */
  peer: Endpoint<P> | undefined;
  onDtmf: DtmfListener | undefined;
  #closed = false;

  constructor(init: EndpointInit<P>) {
    this.id = init.id;
    this.kind = init.kind;
    this.clockRateHz = init.clockRateHz;
    this.codec = init.codec;
    this.ports = init.ports;
    this.latch = new Latch(init.strict);
    this.continuity = new SsrcContinuity(init.clockRateHz);
    this.stats = new EndpointStats(init.clockRateHz);
    this.rtcp = new RtcpState(init.ownSsrc);
    this.clock = init.clock;
  }

  /** 'native': the mover moves this endpoint's RTP; 'sockets': Carillon's own sockets (SRTP, media functions). */
  abstract readonly path: 'native' | 'sockets';

  /** Sends a datagram out of this endpoint's RTP (or RTCP) port to `address:port` (RTCP: as SRTCP on a secure leg). */
  abstract sendFrom(buf: Buffer, len: number, viaRtcp: boolean, port: number, address: string): void;

  /** Sends an RTP packet to the far end (a media function's output, or relayed from the peer). */
  abstract sendRtp(buf: Buffer, len: number): void;

  /** The SDP changed (`configure` ran): tell whatever moves the packets. */
  protected abstract remoteChanged(): void;

  /** The peer changed (`connect`): tell whatever moves the packets. */
  protected abstract peerChanged(): void;

  /** Brings counters and latching up to date (a no-op where this object is the truth). */
  abstract sync(): void;

  protected abstract detach(): void;

  /** Applies what the far end's SDP says: where it receives, hold, DTMF payload types, SRTP keys. */
  configure(r: RemoteMedia): void {
    this.srtp.set(r.srtp);
    this.latch.setRemote(r.address, r.port, r.rtcpPort, r.rtcpMux);
    this.hold = r.address === undefined || r.direction === 'sendonly' || r.direction === 'inactive';
    this.#dtmfPtLow = 0;
    this.#dtmfPtHigh = 0;
    for (const pt of r.dtmfPayloadTypes) {
      if (pt < 32) this.#dtmfPtLow |= 1 << pt;
      else if (pt >= 96 && pt < 128) this.#dtmfPtHigh |= 1 << (pt - 96);
    }
    this.remoteChanged();
  }

  isDtmf(pt: number): boolean {
    if (pt < 32) return (this.#dtmfPtLow & (1 << pt)) !== 0;
    return pt >= 96 && (this.#dtmfPtHigh & (1 << (pt - 96))) !== 0;
  }

  /** Statistics, DTMF and activity for one accepted RTP packet. */
  protected noteRtp(ssrc: number, seq: number, ts: number, pt: number, payloadLength: number, firstWord: number, nowMs: number): void {
    const ev = this.stats.note(ssrc, seq, ts, this.isDtmf(pt), payloadLength, firstWord, nowMs);
    if (ev >= 0 && this.onDtmf !== undefined) this.onDtmf(ev, this.stats.dtmf.lastDurationUnits);
  }

  /**
   * An RTCP compound from the far end that arrived at `atMs`: read it, learn from it, and relay it
   * to the peer (unless `relayed`: the native mover already did, on arrival).
   */
  protected handleRtcp(buf: Buffer, len: number, address: string, port: number, muxed: boolean, atMs: number, relayed: boolean): void {
    if (!this.latch.acceptsRtcpFrom(address)) {
      this.stats.received.dropped++;
      return;
    }
    const s = rtcpSummary;
    if (!readRtcpCompound(buf, len, s)) {
      this.stats.received.dropped++;
      return;
    }
    // On the native mover the mover learns the RTCP source itself (relay.c, symmetric RTCP).
    if (!relayed) this.latch.learnRtcpPort(address, port, muxed);
    this.stats.received.rtcpPackets++;
    this.stats.received.rtcpBytes += len;
    const to = this.peer;
    const onward = to !== undefined && to.latch.peerAddress !== undefined ? to : undefined;
    // What Carillon sends this endpoint: the peer's stream as forwarded, or (connected to none) its own, as a meeting participant hears.
    const forwarded = to === undefined ? this.rtcp.ownSsrc : to.continuity.forwardedSsrc;
    this.rtcp.learn(s, forwarded, onward?.rtcp, atMs);
    if (s.hasFeedback) {
      const fns = this.functions;
      for (let i = 0; i < fns.length; i++) (fns[i] as MediaFunction).onFeedback?.(s.feedback);
    }
    if (onward === undefined) return;
    if (s.hasSr) onward.rtcp.lastRelayedSrMs = atMs;
    if (relayed) return;
    const l = onward.latch;
    onward.stats.sent.rtcpPackets++;
    onward.stats.sent.rtcpBytes += len;
    if (l.rtcpMux) onward.sendFrom(buf, len, false, l.peerPort, l.peerAddress as string);
    else onward.sendFrom(buf, len, true, l.peerRtcpPort, l.peerAddress as string);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops moving packets and closes the media functions (the owner releases the ports). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    disconnect(this);
    for (const f of this.functions) f.close();
    this.detach();
  }

  /** Internal to `connect`/`disconnect`. */
  static setPeer<Q extends MediaPorts>(ep: Endpoint<Q>, peer: Endpoint<Q> | undefined): void {
    ep.peer = peer;
    ep.peerChanged();
  }
}

/**
 * Connects two endpoints: packets relay between them from now on, each leaving the endpoint it
 * was connected to before. Both must move packets the same way (`path`).
 */
export function connect<P extends MediaPorts>(a: Endpoint<P>, b: Endpoint<P>): void {
  if (a === b || a.path !== b.path) throw new Error('endpoints on different paths cannot be connected');
  if (a.peer === b) return;
  disconnect(a);
  disconnect(b);
  a.peer = b;
  Endpoint.setPeer(b, a);
  Endpoint.setPeer(a, b);
}

/** Disconnects an endpoint from its peer (nothing relays between them any more). */
export function disconnect<P extends MediaPorts>(a: Endpoint<P>): void {
  const p = a.peer;
  if (p === undefined) return;
  p.peer = undefined;
  Endpoint.setPeer(a, undefined);
  Endpoint.setPeer(p, undefined);
}
