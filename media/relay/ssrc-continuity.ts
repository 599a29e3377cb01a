import { rewriteRtpInPlace } from '../rtp/rtp-header.ts';

/**
 * SSRC continuity of the stream Carillon forwards from one endpoint: after the endpoint changes
 * SSRC (a re-INVITE to another device, a transfer), packets are rewritten to keep the first SSRC
 * and run on from the last sequence number and timestamp sent, so the receiver sees one stream.
 * One owner per path: on Carillon's sockets this module rewrites the packets; on the native mover
 * `media/native/relay.c` does, and `NativeMover.sync` copies what it last sent here with `mirror`
 * (Carillon's own sender reports read `lastOutTs`). Both pass the shared table in
 * test/media/relay/latching-cases.ts.
 */
export class SsrcContinuity {
  /** SSRC of the last packet accepted from the endpoint (-1: none yet). */
  lastSsrc = -1;
  /** SSRC the receiver sees (-1: nothing forwarded yet). */
  forwardedSsrc = -1;
  rewrite = false;
  /** The SSRC kept once the source changed (the one before the first change). */
  outSsrc = -1;
  seqOffset = 0;
  tsOffset = 0;
  lastOutSeq = 0;
  lastOutTs = 0;
  /** Timestamp advance assumed across a source change (one 20 ms packet). */
  readonly tsStep: number;

  constructor(clockRateHz: number) {
    this.tsStep = Math.round(clockRateHz / 50);
  }

  /** A packet of SSRC `ssrc` was accepted (socket path): a new source sets the offsets from its first packet. */
  onPacket(ssrc: number, seq: number, ts: number): void {
    if (ssrc === this.lastSsrc) return;
    if (this.lastSsrc !== -1) {
      if (!this.rewrite) {
        this.rewrite = true;
        this.outSsrc = this.lastSsrc;
      }
      this.seqOffset = (this.lastOutSeq + 1 - seq) & 0xffff;
      this.tsOffset = (this.lastOutTs + this.tsStep - ts) >>> 0;
    }
    this.lastSsrc = ssrc;
  }

  /** The timestamp as the receiver sees it. */
  outTs(ts: number): number {
    return this.rewrite ? (ts + this.tsOffset) >>> 0 : ts;
  }

  /** The packet in `buf` goes out (socket path): rewritten in place when the source changed. */
  forward(buf: Buffer, seq: number, ts: number): void {
    if (this.rewrite) {
      const outSeq = (seq + this.seqOffset) & 0xffff;
      const outTs = (ts + this.tsOffset) >>> 0;
      rewriteRtpInPlace(buf, outSeq, outTs, this.outSsrc);
      this.forwardedSsrc = this.outSsrc;
      this.lastOutSeq = outSeq;
      this.lastOutTs = outTs;
      return;
    }
    this.forwardedSsrc = this.lastSsrc;
    this.lastOutSeq = seq;
    this.lastOutTs = ts;
  }

  /** The native mover's view, copied in at sync time. */
  mirror(forwardedSsrc: number, lastOutSeq: number, lastOutTs: number): void {
    this.forwardedSsrc = forwardedSsrc;
    this.lastOutSeq = lastOutSeq;
    this.lastOutTs = lastOutTs;
  }
}
