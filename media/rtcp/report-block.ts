/**
 * RTCP reception report block (RFC 3550 §6.4.1), shared by SR and RR.
 *
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |                 SSRC_1 (SSRC of first source)                 |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | fraction lost |       cumulative number of packets lost       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           extended highest sequence number received           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                      interarrival jitter                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         last SR (LSR)                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                   delay since last SR (DLSR)                  |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 8-bit fixed point (/256). */
  fractionLost: number;
  /** Cumulative packets lost, 24-bit signed. */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (0 if none). */
  lsr: number;
  /** Delay since that SR, in 1/65536 s. */
  dlsr: number;
}

export const REPORT_BLOCK_BYTES = 24;

export function createReportBlock(): ReportBlock {
  return { ssrc: 0, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 };
}

/** Copies every field of `from` into `to` (reused structs, nothing allocated). */
export function copyReportBlock(to: ReportBlock, from: ReportBlock): void {
  to.ssrc = from.ssrc;
  to.fractionLost = from.fractionLost;
  to.cumulativeLost = from.cumulativeLost;
  to.extendedHighestSeq = from.extendedHighestSeq;
  to.jitter = from.jitter;
  to.lsr = from.lsr;
  to.dlsr = from.dlsr;
}

/** Reads a block at `offset` into `out` (the caller checked that 24 bytes are there). */
export function readReportBlockInto(buf: Buffer, offset: number, out: ReportBlock): void {
  out.ssrc = buf.readUInt32BE(offset);
  out.fractionLost = buf[offset + 4] as number;
  const lost = buf.readUIntBE(offset + 5, 3);
  out.cumulativeLost = lost & 0x800000 ? lost - 0x1000000 : lost;
  out.extendedHighestSeq = buf.readUInt32BE(offset + 8);
  out.jitter = buf.readUInt32BE(offset + 12);
  out.lsr = buf.readUInt32BE(offset + 16);
  out.dlsr = buf.readUInt32BE(offset + 20);
}

/** Writes a block at `offset`; returns bytes written. Cumulative loss is clamped to 24 bits. */
export function writeReportBlock(b: ReportBlock, buf: Buffer, offset: number): number {
  buf.writeUInt32BE(b.ssrc >>> 0, offset);
  buf[offset + 4] = b.fractionLost & 0xff;
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost)));
  buf.writeUIntBE(lost < 0 ? lost + 0x1000000 : lost, offset + 5, 3);
  buf.writeUInt32BE(b.extendedHighestSeq >>> 0, offset + 8);
  buf.writeUInt32BE(Math.max(0, Math.trunc(b.jitter)) >>> 0, offset + 12);
  buf.writeUInt32BE(b.lsr >>> 0, offset + 16);
  buf.writeUInt32BE(b.dlsr >>> 0, offset + 20);
  return REPORT_BLOCK_BYTES;
}
