import { createReportBlock, readReportBlockInto, REPORT_BLOCK_BYTES, writeReportBlock } from './report-block.ts';
import type { ReportBlock } from './report-block.ts';

/**
 * RTCP SR (PT 200) and RR (PT 201), RFC 3550 §6.4.1/§6.4.2.
 *
 *   |V=2|P|    RC   |   PT=SR=200   |             length            |  header
 *   |                         SSRC of sender                        |
 *   |              NTP timestamp, most significant word             |  sender info (SR only)
 *   |             NTP timestamp, least significant word             |
 *   |                         RTP timestamp                         |
 *   |                     sender's packet count                     |
 *   |                      sender's octet count                     |
 *   |                 report blocks (RC × 24 bytes)                 |
 */
export const RTCP_SR = 200;
export const RTCP_RR = 201;

/** Up to 31 report blocks fit an SR/RR; a parsed report reuses its block objects. */
export interface SenderReceiverReport {
  packetType: number;
  ssrc: number;
  /** SR only: NTP timestamp (seconds since 1900 in the high word, fraction in the low). */
  ntpHigh: number;
  ntpLow: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  blockCount: number;
  readonly blocks: ReportBlock[];
}

export function createSenderReceiverReport(): SenderReceiverReport {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < 31; i++) blocks.push(createReportBlock());
  return { packetType: 0, ssrc: 0, ntpHigh: 0, ntpLow: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0, blockCount: 0, blocks };
}

export type RtcpParseFault = 'short' | 'version' | 'type' | 'length';

/**
 * Reads the SR or RR starting at `offset` (one packet of a compound) into `out`.
 * Returns the packet's total length in bytes, or a fault. Never throws, never allocates.
 */
export function parseSenderReceiverReportInto(buf: Buffer, offset: number, end: number, out: SenderReceiverReport): number | RtcpParseFault {
  if (end - offset < 8) return 'short';
  const b0 = buf[offset] as number;
  if (b0 >> 6 !== 2) return 'version';
  const pt = buf[offset + 1] as number;
  if (pt !== RTCP_SR && pt !== RTCP_RR) return 'type';
  const total = (buf.readUInt16BE(offset + 2) + 1) * 4;
  if (offset + total > end) return 'length';
  const rc = b0 & 0x1f;
  let p = offset + 8;
  if (pt === RTCP_SR) {
    if (total < 28) return 'length';
    out.ntpHigh = buf.readUInt32BE(p);
    out.ntpLow = buf.readUInt32BE(p + 4);
    out.rtpTimestamp = buf.readUInt32BE(p + 8);
    out.packetCount = buf.readUInt32BE(p + 12);
    out.octetCount = buf.readUInt32BE(p + 16);
    p += 20;
  } else {
    out.ntpHigh = 0;
    out.ntpLow = 0;
    out.rtpTimestamp = 0;
    out.packetCount = 0;
    out.octetCount = 0;
  }
  if (p + rc * REPORT_BLOCK_BYTES > offset + total) return 'length';
  out.packetType = pt;
  out.ssrc = buf.readUInt32BE(offset + 4);
  out.blockCount = rc;
  for (let i = 0; i < rc; i++) readReportBlockInto(buf, p + i * REPORT_BLOCK_BYTES, out.blocks[i] as ReportBlock);
  return total;
}

/** Writes an SR (when `sender` info is given) or RR; returns bytes written. */
export function writeSenderReceiverReport(r: SenderReceiverReport, buf: Buffer, offset: number): number {
  const isSr = r.packetType === RTCP_SR;
  const rc = Math.min(31, r.blockCount);
  const total = 8 + (isSr ? 20 : 0) + rc * REPORT_BLOCK_BYTES;
  buf[offset] = 0x80 | rc;
  buf[offset + 1] = isSr ? RTCP_SR : RTCP_RR;
  buf.writeUInt16BE(total / 4 - 1, offset + 2);
  buf.writeUInt32BE(r.ssrc >>> 0, offset + 4);
  let p = offset + 8;
  if (isSr) {
    buf.writeUInt32BE(r.ntpHigh >>> 0, p);
    buf.writeUInt32BE(r.ntpLow >>> 0, p + 4);
    buf.writeUInt32BE(r.rtpTimestamp >>> 0, p + 8);
    buf.writeUInt32BE(r.packetCount >>> 0, p + 12);
    buf.writeUInt32BE(r.octetCount >>> 0, p + 16);
    p += 20;
  }
  for (let i = 0; i < rc; i++) p += writeReportBlock(r.blocks[i] as ReportBlock, buf, p);
  return total;
}

/** The middle 32 bits of an NTP timestamp (the LSR value, RFC 3550 §6.4.1). */
export function ntpMiddle32(ntpHigh: number, ntpLow: number): number {
  return (((ntpHigh & 0xffff) << 16) | (ntpLow >>> 16)) >>> 0;
}

