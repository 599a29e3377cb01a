import { createFeedbackSummary, readFeedbackInto, resetFeedback, RTCP_PSFB, RTCP_RTPFB } from './feedback.ts';
import type { FeedbackSummary } from './feedback.ts';
import { copyReportBlock, createReportBlock } from './report-block.ts';
import type { ReportBlock } from './report-block.ts';
import { createSenderReceiverReport, ntpMiddle32, parseSenderReceiverReportInto, RTCP_RR, RTCP_SR, writeSenderReceiverReport } from './sender-receiver-report.ts';

/**
 * Compound RTCP (RFC 3550 §6.1): what Carillon needs from a compound packet a peer sent (its SR
 * times and counts, every reception report block, XR DLRR sub-blocks, BYE), read into one
 * reusable summary, and Carillon's own compound report (SR or RR, SDES CNAME, XR RRTR).
 */
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_XR = 207;
const XR_RRTR = 4;
const XR_DLRR = 5;
const MAX_BLOCKS = 8;

export interface DlrrSubBlock {
  ssrc: number;
  /** Middle 32 bits of the RRTR NTP time being answered. */
  lrr: number;
  /** Delay since that RRTR, 1/65536 s. */
  dlrr: number;
}

/** A compound packet's content, overwritten by every read (nothing allocated per packet). */
export interface RtcpSummary {
  /** An SR was present: its sender SSRC, NTP middle-32 and counts. */
  hasSr: boolean;
  srSsrc: number;
  srMiddle32: number;
  /** SSRC of the first SR/RR (the reporter). */
  reporterSsrc: number;
  blockCount: number;
  readonly blocks: ReportBlock[];
  dlrrCount: number;
  readonly dlrr: DlrrSubBlock[];
  bye: boolean;
  /** Packets of the compound that were not well formed (the walk stopped there). */
  malformed: boolean;
  /** Feedback messages in it (RFC 4585: key-frame requests, bandwidth limits). */
  readonly feedback: FeedbackSummary;
  /** Any feedback packet was present (RTPFB or PSFB). */
  hasFeedback: boolean;
}

export function createRtcpSummary(): RtcpSummary {
  const blocks: ReportBlock[] = [];
  const dlrr: DlrrSubBlock[] = [];
  for (let i = 0; i < MAX_BLOCKS; i++) {
    blocks.push(createReportBlock());
    dlrr.push({ ssrc: 0, lrr: 0, dlrr: 0 });
  }
  return { hasSr: false, srSsrc: 0, srMiddle32: 0, reporterSsrc: 0, blockCount: 0, blocks, dlrrCount: 0, dlrr, bye: false, malformed: false, feedback: createFeedbackSummary(), hasFeedback: false };
}

const scratchReport = createSenderReceiverReport();
const scratchOwn = createSenderReceiverReport();

/** Reads `buf[0..len)` as compound RTCP into `out`. Returns false when not even one packet parses. */
export function readRtcpCompound(buf: Buffer, len: number, out: RtcpSummary): boolean {
  out.hasSr = false;
  out.blockCount = 0;
  out.dlrrCount = 0;
  out.bye = false;
  out.malformed = false;
  out.reporterSsrc = 0;
  out.hasFeedback = false;
  resetFeedback(out.feedback);
  let offset = 0;
  let packets = 0;
  while (offset + 4 <= len) {
    const b0 = buf[offset] as number;
    if (b0 >> 6 !== 2) break;
    const pt = buf[offset + 1] as number;
    const total = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + total > len) break;
    if (pt === 200 || pt === 201) {
      const r = parseSenderReceiverReportInto(buf, offset, len, scratchReport);
      if (typeof r !== 'number') break;
      if (out.reporterSsrc === 0) out.reporterSsrc = scratchReport.ssrc;
      if (pt === RTCP_SR) {
        out.hasSr = true;
        out.srSsrc = scratchReport.ssrc;
        out.srMiddle32 = ntpMiddle32(scratchReport.ntpHigh, scratchReport.ntpLow);
      }
      for (let i = 0; i < scratchReport.blockCount && out.blockCount < MAX_BLOCKS; i++) {
        copyReportBlock(out.blocks[out.blockCount++] as ReportBlock, scratchReport.blocks[i] as ReportBlock);
      }
    } else if (pt === RTCP_BYE) {
      out.bye = true;
    } else if (pt === RTCP_XR && total >= 8) {
      readXr(buf, offset + 8, offset + total, out);
    } else if (pt === RTCP_RTPFB || pt === RTCP_PSFB) {
      if (!readFeedbackInto(buf, offset, total, out.feedback)) break;
      out.hasFeedback = true;
    }
    packets++;
    offset += total;
  }
  out.malformed = offset !== len;
  return packets > 0;
}

function readXr(buf: Buffer, start: number, end: number, out: RtcpSummary): void {
  let p = start;
  while (p + 4 <= end) {
    const bt = buf[p] as number;
    const blockEnd = p + (buf.readUInt16BE(p + 2) + 1) * 4;
    if (blockEnd > end) return;
    if (bt === XR_DLRR) {
      for (let q = p + 4; q + 12 <= blockEnd && out.dlrrCount < MAX_BLOCKS; q += 12) {
        const d = out.dlrr[out.dlrrCount++] as DlrrSubBlock;
        d.ssrc = buf.readUInt32BE(q);
        d.lrr = buf.readUInt32BE(q + 4);
        d.dlrr = buf.readUInt32BE(q + 8);
      }
    }
    p = blockEnd;
  }
}

/** What Carillon reports on one leg in its own compound RTCP. */
export interface OwnReport {
  ssrc: number;
  /** Send an SR (with these sender counts) rather than an RR. */
  sender: boolean;
  ntpHigh: number;
  ntpLow: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  /** A reception report about the stream this leg sends Carillon, when one was received. */
  hasBlock: boolean;
  readonly block: ReportBlock;
  /** CNAME, ASCII, at most 255 bytes. */
  cname: string;
}

export function createOwnReport(ssrc: number, cname: string): OwnReport {
  return { ssrc, sender: true, ntpHigh: 0, ntpLow: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0, hasBlock: false, block: createReportBlock(), cname };
}

/** Writes SR/RR + SDES(CNAME) + XR(RRTR) into `buf` at 0; returns the compound's length. */
export function writeOwnReport(r: OwnReport, buf: Buffer): number {
  const sr = scratchOwn;
  sr.packetType = r.sender ? RTCP_SR : RTCP_RR;
  sr.ssrc = r.ssrc;
  sr.ntpHigh = r.ntpHigh;
  sr.ntpLow = r.ntpLow;
  sr.rtpTimestamp = r.rtpTimestamp;
  sr.packetCount = r.packetCount;
  sr.octetCount = r.octetCount;
  sr.blockCount = r.hasBlock ? 1 : 0;
  copyReportBlock(sr.blocks[0] as ReportBlock, r.block);
  let p = writeSenderReceiverReport(sr, buf, 0);
  p = writeSdesCname(r.ssrc, r.cname, buf, p);
  // XR with a receiver reference time block (RFC 3611 §4.4): peers answer with DLRR.
  buf[p] = 0x80;
  buf[p + 1] = RTCP_XR;
  buf.writeUInt16BE(4, p + 2);
  buf.writeUInt32BE(r.ssrc >>> 0, p + 4);
  buf[p + 8] = XR_RRTR;
  buf[p + 9] = 0;
  buf.writeUInt16BE(2, p + 10);
  buf.writeUInt32BE(r.ntpHigh >>> 0, p + 12);
  buf.writeUInt32BE(r.ntpLow >>> 0, p + 16);
  return p + 20;
}

/** SDES (RFC 3550 §6.5): one chunk for `ssrc` with its CNAME item (at most 255 bytes), END, padded to 32 bits; returns the offset after it. */
export function writeSdesCname(ssrc: number, cname: string, buf: Buffer, offset: number): number {
  const nameLen = Math.min(255, cname.length);
  buf[offset] = 0x81;
  buf[offset + 1] = RTCP_SDES;
  buf.writeUInt32BE(ssrc >>> 0, offset + 4);
  buf[offset + 8] = 1;
  buf[offset + 9] = nameLen;
  buf.write(cname.slice(0, nameLen), offset + 10, 'latin1');
  let q = offset + 10 + nameLen;
  buf[q++] = 0;
  while ((q - offset) % 4 !== 0) buf[q++] = 0;
  buf.writeUInt16BE((q - offset) / 4 - 1, offset + 2);
  return q;
}

/** An empty receiver report from `ssrc` (RFC 3550 §6.4.2, no blocks): the first packet of a compound that carries only feedback; returns 8. */
export function writeEmptyRr(ssrc: number, buf: Buffer, offset: number): number {
  buf[offset] = 0x80;
  buf[offset + 1] = RTCP_RR;
  buf.writeUInt16BE(1, offset + 2);
  buf.writeUInt32BE(ssrc >>> 0, offset + 4);
  return 8;
}

/** NTP time (seconds since 1900, 32.32 fixed point) for milliseconds since 1970. */
export function ntpFromUnixMs(ms: number): { high: number; low: number } {
  const secs = Math.floor(ms / 1000);
  const frac = ms / 1000 - secs;
  return { high: (secs + 2_208_988_800) >>> 0, low: Math.floor(frac * 0x1_0000_0000) >>> 0 };
}

