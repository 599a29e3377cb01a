import { createRequire } from 'node:module';
import { Endpoint } from './endpoint.ts';
import type { EndpointInit, MediaPorts } from './endpoint.ts';

/**
 * The TypeScript side of the native RTP mover (media/native/relay.c): the addon owns the sockets
 * and moves RTP between paired slots on its own thread with recvmmsg, latching and SSRC
 * continuity — the one source of truth for those on this path; everything else — statistics,
 * DTMF, RTCP reading and relaying, Carillon's own RTCP — stays here, fed in batches from the
 * rings the addon fills. Nothing here runs per packet except the ring drain, which reads numbers
 * out of shared memory and allocates nothing for RTP.
 */
interface NativeBuffers {
  readonly handle: unknown;
  readonly counters: ArrayBuffer;
  readonly ring: ArrayBuffer;
  readonly ctl: ArrayBuffer;
  readonly rtcp: ArrayBuffer;
}

export interface NativeAddon {
  create(maxSlots: number, ringRecords: number, rtcpEntries: number): NativeBuffers;
  bindPair(h: unknown, slot: number, ip: string, port: number): number;
  /** Pairs slots a and b (b = -1: unpairs a); steps are each slot's timestamp advance across an SSRC change. */
  pair(h: unknown, a: number, b: number, tsStepA: number, tsStepB: number): number;
  setPeer(h: unknown, slot: number, ip: string, port: number, rtcpPort: number, strict: number, rtcpMux: number): number;
  send(h: unknown, slot: number, buf: Buffer, len: number, viaRtcp: number, ip: string, port: number): number;
  release(h: unknown, slot: number): number;
  destroy(h: unknown): number;
}

/** The built addon, or undefined when it was not built (the socket relay is used then). */
export function loadNativeAddon(): NativeAddon | undefined {
  try {
    const mod = createRequire(import.meta.url)('../native/build/Release/carillon_relay.node') as Partial<NativeAddon>;
    return typeof mod.create === 'function' && typeof mod.bindPair === 'function' ? (mod as NativeAddon) : undefined;
  } catch {
    return undefined;
  }
}

export interface NativePorts extends MediaPorts {
  readonly slot: number;
}

// Counter layout per slot (must match relay.c).
const CNT = 17;
const C_RX_PKTS = 0;
const C_RX_BYTES = 1;
const C_DROPPED = 2;
const C_TX_PKTS = 3;
const C_TX_BYTES = 4;
const C_LATCHED = 5;
const C_RELATCHES = 6;
const C_PEER_IP = 7;
const C_PEER_PORT = 8;
const C_PEER_RTCP_PORT = 9;
const C_RING_LOST = 11;
const C_TX_RTCP_PKTS = 12;
const C_TX_RTCP_BYTES = 13;
const C_OUT_SSRC = 14;
const C_LAST_OUT_SEQ = 15;
const C_LAST_OUT_TS = 16;
const REC_WORDS = 8;
const RTCP_ENTRY = 512;
const RTCP_HDR = 24;

function dotted(ip: number): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** One worker's native mover: slots, the shared rings and counters, and the endpoints on them. */
export class NativeMover {
  readonly addon: NativeAddon;
  readonly #h: unknown;
  readonly #counters: Float64Array;
  readonly #ring: Uint32Array;
  readonly #ctl: Uint32Array;
  readonly #rtcp: Buffer;
  readonly #ringCap: number;
  readonly #rtcpCap: number;
  readonly #free: number[] = [];
  readonly #endpoints: (NativeEndpoint | undefined)[];
  /** performance.now() origin in the addon's CLOCK_MONOTONIC microseconds. */
  readonly #originUs: number;
  #destroyed = false;

  constructor(addon: NativeAddon, maxSlots: number, ringRecords = 1 << 16, rtcpEntries = 1024) {
    this.addon = addon;
    const b = addon.create(maxSlots, ringRecords, rtcpEntries);
    this.#h = b.handle;
    this.#counters = new Float64Array(b.counters);
    this.#ring = new Uint32Array(b.ring);
    this.#ctl = new Uint32Array(b.ctl);
    this.#rtcp = Buffer.from(b.rtcp);
    this.#ringCap = ringRecords;
    this.#rtcpCap = rtcpEntries;
    this.#endpoints = new Array<NativeEndpoint | undefined>(maxSlots).fill(undefined);
    for (let s = maxSlots - 1; s >= 0; s--) this.#free.push(s);
    this.#originUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
  }

  get handle(): unknown {
    return this.#h;
  }

  /** Binds RTP on `port` and RTCP on `port + 1`; undefined when either is taken. */
  bind(ip: string, port: number): NativePorts | undefined {
    const slot = this.#free.pop();
    if (slot === undefined) return undefined;
    if (this.addon.bindPair(this.#h, slot, ip, port) !== 0) {
      this.#free.push(slot);
      return undefined;
    }
    return { rtpPort: port, slot };
  }

  release(p: NativePorts): void {
    this.addon.release(this.#h, p.slot);
    this.#endpoints[p.slot] = undefined;
    this.#free.push(p.slot);
  }

  attach(ep: NativeEndpoint): void {
    this.#endpoints[ep.ports.slot] = ep;
  }

  detach(ep: NativeEndpoint): void {
    if (this.#endpoints[ep.ports.slot] === ep) this.#endpoints[ep.ports.slot] = undefined;
  }

  /** The addon's counters for a slot, copied into its endpoint (the mover is their one writer on this path). */
  sync(ep: NativeEndpoint): void {
    const c = this.#counters;
    const o = ep.ports.slot * CNT;
    const st = ep.stats;
    st.received.rtpPackets = c[o + C_RX_PKTS] as number;
    st.received.rtpBytes = c[o + C_RX_BYTES] as number;
    st.received.dropped = (c[o + C_DROPPED] as number) + ep.rtcpDropped;
    st.unobserved = c[o + C_RING_LOST] as number;
    st.sent.rtpPackets = c[o + C_TX_PKTS] as number;
    st.sent.rtpBytes = c[o + C_TX_BYTES] as number;
    st.sent.rtcpPackets = c[o + C_TX_RTCP_PKTS] as number;
    st.sent.rtcpBytes = c[o + C_TX_RTCP_BYTES] as number;
    const ip = c[o + C_PEER_IP] as number;
    const port = c[o + C_PEER_PORT] as number;
    ep.latch.mirror(ip === 0 || port === 0 ? undefined : dotted(ip), port, c[o + C_PEER_RTCP_PORT] as number, c[o + C_LATCHED] === 1, c[o + C_RELATCHES] as number);
    ep.continuity.mirror(c[o + C_OUT_SSRC] as number, c[o + C_LAST_OUT_SEQ] as number, c[o + C_LAST_OUT_TS] as number);
  }

  /** Takes every RTP header and RTCP packet the addon queued since the last drain. */
  drain(): void {
    const ctl = this.#ctl;
    const ring = this.#ring;
    let rd = Atomics.load(ctl, 1);
    const wr = Atomics.load(ctl, 0);
    while (rd !== wr) {
      const o = (rd % this.#ringCap) * REC_WORDS;
      const ep = this.#endpoints[ring[o] as number];
      if (ep !== undefined) {
        const w1 = ring[o + 1] as number;
        const arrivalUs = (ring[o + 4] as number) + (ring[o + 5] as number) * 0x1_0000_0000;
        ep.onHeader(w1 & 0xffff, ring[o + 2] as number, (w1 >>> 16) & 0x7f, ring[o + 3] as number, (arrivalUs - this.#originUs) / 1000, ring[o + 6] as number, ring[o + 7] as number);
      }
      rd = (rd + 1) >>> 0;
    }
    Atomics.store(ctl, 1, rd);
    let rr = Atomics.load(ctl, 3);
    const rw = Atomics.load(ctl, 2);
    const buf = this.#rtcp;
    while (rr !== rw) {
      const o = (rr % this.#rtcpCap) * RTCP_ENTRY;
      const ep = this.#endpoints[buf.readUInt32LE(o)];
      if (ep !== undefined) {
        const len = buf.readUInt32LE(o + 4);
        const address = `${buf[o + 8] as number}.${buf[o + 9] as number}.${buf[o + 10] as number}.${buf[o + 11] as number}`;
        const w3 = buf.readUInt32LE(o + 12);
        const arrivalUs = buf.readUInt32LE(o + 16) + buf.readUInt32LE(o + 20) * 0x1_0000_0000;
        ep.onRtcpPacket(buf.subarray(o + RTCP_HDR, o + RTCP_HDR + len), address, w3 & 0xffff, w3 >>> 16 === 1, (arrivalUs - this.#originUs) / 1000);
      }
      rr = (rr + 1) >>> 0;
    }
    Atomics.store(ctl, 3, rr);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.addon.destroy(this.#h);
  }
}

/** An endpoint whose packets the native mover moves; statistics and RTCP handled here from its rings. */
export class NativeEndpoint extends Endpoint<NativePorts> {
  readonly path = 'native';
  readonly #mover: NativeMover;
  /** RTCP compounds the mover queued that were unreadable or from a stranger (TS's verdict, added to the mover's drops). */
  rtcpDropped = 0;

  constructor(init: EndpointInit<NativePorts>, mover: NativeMover) {
    super(init);
    this.#mover = mover;
    mover.attach(this);
  }

  sendFrom(buf: Buffer, len: number, viaRtcp: boolean, port: number, address: string): void {
    this.#mover.addon.send(this.#mover.handle, this.ports.slot, buf, len, viaRtcp ? 1 : 0, address, port);
  }

  sendRtp(buf: Buffer, len: number): void {
    const l = this.latch;
    if (l.peerAddress !== undefined) this.#mover.addon.send(this.#mover.handle, this.ports.slot, buf, len, 0, l.peerAddress, l.peerPort);
  }

  /** Tells the mover what the SDP now says (it keeps or drops the latch by the same rules as latching.ts). */
  protected remoteChanged(): void {
    const l = this.latch;
    this.#mover.addon.setPeer(this.#mover.handle, this.ports.slot, l.sdpAddress ?? '', l.sdpPort, l.peerRtcpPort, l.strict ? 1 : 0, l.rtcpMux ? 1 : 0);
    this.#mover.sync(this);
  }

  protected peerChanged(): void {
    const p = this.peer;
    this.#mover.addon.pair(this.#mover.handle, this.ports.slot, p === undefined ? -1 : p.ports.slot, this.continuity.tsStep, p === undefined ? this.continuity.tsStep : p.continuity.tsStep);
  }

  sync(): void {
    this.#mover.sync(this);
  }

  onHeader(seq: number, ts: number, pt: number, ssrc: number, arrivalMs: number, payloadLength: number, firstWord: number): void {
    this.noteRtp(ssrc, seq, ts, pt, payloadLength, firstWord, arrivalMs);
  }

  /** An RTCP compound the mover received (and already relayed) at `arrivalMs`. */
  onRtcpPacket(buf: Buffer, address: string, port: number, muxed: boolean, arrivalMs: number): void {
    this.sync();
    this.peer?.sync();
    const before = this.stats.received.dropped;
    this.handleRtcp(buf, buf.length, address, port, muxed, arrivalMs, true);
    this.rtcpDropped += this.stats.received.dropped - before;
  }

  protected detach(): void {
    this.#mover.detach(this);
  }
}
