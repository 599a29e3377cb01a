import type { DlrrSubBlock, RtcpSummary } from '../rtcp/compound.ts';
import type { ReportBlock } from '../rtcp/report-block.ts';

/** SRs sent toward an endpoint (relayed or Carillon's own), remembered to time its answers. */
const SR_SLOTS = 4;

/**
 * One endpoint's RTCP as Carillon sees it: its own sender/receiver reports to the endpoint (SSRC,
 * schedule, counts), the SRs that reached the endpoint and the endpoint's answers to them (RTT),
 * and what the endpoint reported about the stream Carillon sends it. Written only by the RTCP
 * reading in endpoint.ts (`learn`) and by the worker's own-RTCP sender in media-core.ts.
 */
export class RtcpState {
  /** Carillon's own SSRC in the RTCP it sends this endpoint. */
  readonly ownSsrc: number;
  nextRtcpMs = 0;
  /** Carillon's own RTCP sent to this endpoint. */
  ownPackets = 0;
  ownBytes = 0;
  /** The endpoint's last SR: NTP middle-32 and local arrival (for LSR/DLSR in our reports). */
  peerSrMiddle32 = 0;
  peerSrArrivalMs = 0;
  /** When an SR from the connected endpoint was last relayed to this one (-1: never). */
  lastRelayedSrMs = -1;
  /** What the endpoint reported (RTCP) about the stream Carillon sends it; -1 = never reported. */
  reportedCumulativeLost = -1;
  reportedFractionLost = -1;
  reportedJitterUnits = -1;
  /** Last round-trip time between Carillon and this endpoint, µs (-1 = not measured). */
  rttUs = -1;
  readonly #srSentMiddle = new Float64Array(SR_SLOTS);
  readonly #srSentMs = new Float64Array(SR_SLOTS);
  #srSentNext = 0;

  constructor(ownSsrc: number) {
    this.ownSsrc = ownSsrc >>> 0;
  }

  /** Remembers an SR (NTP middle-32) that reached this endpoint at `atMs`: its LSR answer gives the RTT. */
  rememberSr(middle32: number, atMs: number): void {
    const slot = this.#srSentNext;
    this.#srSentMiddle[slot] = middle32;
    this.#srSentMs[slot] = atMs;
    this.#srSentNext = (slot + 1) % SR_SLOTS;
  }

  /**
   * RTT and the endpoint's view of what it receives, from a compound it sent (just read into `s`)
   * at `now`. `forwardedSsrc`: the SSRC of what Carillon sends it (its report blocks about that
   * are the ones kept); `onward`: where an SR in it goes on to (its answer from there times that
   * endpoint). The RTT of a leg needs no clock agreement: Carillon remembers when each SR reached
   * the endpoint, and the endpoint's LSR/DLSR answer to it closes the loop (RFC 3550 §6.4.1).
   */
  learn(s: RtcpSummary, forwardedSsrc: number, onward: RtcpState | undefined, now: number): void {
    if (s.hasSr) {
      this.peerSrMiddle32 = s.srMiddle32;
      this.peerSrArrivalMs = now;
      onward?.rememberSr(s.srMiddle32, now);
    }
    const forwarded = forwardedSsrc >>> 0;
    for (let i = 0; i < s.blockCount; i++) {
      const blk = s.blocks[i] as ReportBlock;
      if (blk.lsr !== 0) this.#rtt(blk.lsr, blk.dlsr, now);
      if (blk.ssrc === forwarded) {
        this.reportedCumulativeLost = blk.cumulativeLost;
        this.reportedFractionLost = blk.fractionLost;
        this.reportedJitterUnits = blk.jitter;
      }
    }
    for (let i = 0; i < s.dlrrCount; i++) {
      const d = s.dlrr[i] as DlrrSubBlock;
      if (d.lrr !== 0) this.#rtt(d.lrr, d.dlrr, now);
    }
  }

  #rtt(lsr: number, dlsr: number, nowMono: number): void {
    for (let k = 0; k < SR_SLOTS; k++) {
      if (this.#srSentMiddle[k] !== lsr) continue;
      const us = (nowMono - (this.#srSentMs[k] as number)) * 1000 - (dlsr * 1_000_000) / 65536;
      if (us > 0 && us < 10_000_000) this.rttUs = us;
      return;
    }
  }
}
