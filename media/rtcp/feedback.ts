/**
 * RTCP feedback messages (RFC 4585 §6) that video needs: key-frame requests — Picture Loss
 * Indication (PLI, §6.3.1) and Full Intra Request (FIR, RFC 5104 §4.3.1) — and bandwidth limits —
 * Temporary Maximum Media Stream Bit Rate Request/Notification (TMMBR/TMMBN, RFC 5104 §4.2.1–2)
 * and Receiver Estimated Maximum Bitrate (REMB, draft-alvestrand-rmcat-remb §2.2, an
 * application-layer feedback message).
 *
 * Common packet format (RFC 4585 §6.1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|   FMT   |       PT      |          length               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of packet sender                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of media source                         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    :            Feedback Control Information (FCI)                 :
 *
 * PT 205 (RTPFB): FMT 1 generic NACK, 3 TMMBR, 4 TMMBN. PT 206 (PSFB): FMT 1 PLI, 4 FIR, 15 AFB
 * (REMB when the FCI begins 'REMB').
 */
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;
const FMT_NACK = 1;
const FMT_TMMBR = 3;
const FMT_TMMBN = 4;
const FMT_PLI = 1;
const FMT_FIR = 4;
const FMT_AFB = 15;
/** 'REMB' in ASCII. */
const REMB_ID = 0x52454d42;

/** The feedback of one compound packet, overwritten by every read. */
export interface FeedbackSummary {
  /** PLI packets (each asks the media source for a key frame). */
  pli: number;
  /** FIR entries (RFC 5104: each names the SSRC that must send a decoder refresh point). */
  fir: number;
  /** Generic NACK packets. */
  nack: number;
  /** The lowest TMMBR bit rate asked for, bit/s (-1: none), its entry's SSRC and overhead. */
  tmmbrBps: number;
  tmmbrSsrc: number;
  tmmbrOverhead: number;
  /** A TMMBN was present. */
  tmmbn: boolean;
  /** The REMB estimate, bit/s (-1: none). */
  rembBps: number;
}

export function createFeedbackSummary(): FeedbackSummary {
  return { pli: 0, fir: 0, nack: 0, tmmbrBps: -1, tmmbrSsrc: 0, tmmbrOverhead: 0, tmmbn: false, rembBps: -1 };
}

export function resetFeedback(f: FeedbackSummary): void {
  f.pli = 0;
  f.fir = 0;
  f.nack = 0;
  f.tmmbrBps = -1;
  f.tmmbrSsrc = 0;
  f.tmmbrOverhead = 0;
  f.tmmbn = false;
  f.rembBps = -1;
}

/** Exponent/mantissa bit rates (TMMBR 6+17 bits, REMB 6+18 bits): mantissa × 2^exp, bit/s. */
function bitrate(exp: number, mantissa: number): number {
  return mantissa * 2 ** exp;
}

/**
 * Reads one feedback packet at `buf[offset, offset + total)` (its common header already checked by
 * the compound walk) into `out`. Returns false when it is malformed (too short for what its FMT
 * carries). Never throws; nothing allocated.
 */
export function readFeedbackInto(buf: Buffer, offset: number, total: number, out: FeedbackSummary): boolean {
  if (total < 12) return false;
  const fmt = (buf[offset] as number) & 0x1f;
  const pt = buf[offset + 1] as number;
  const fci = offset + 12;
  const end = offset + total;
  if (pt === RTCP_PSFB) {
    if (fmt === FMT_PLI) {
      out.pli++;
      return true;
    }
    if (fmt === FMT_FIR) {
      // RFC 5104 §4.3.1.2: one or more 8-octet entries, SSRC then sequence number and 24 reserved bits.
      if (total - 12 < 8) return false;
      for (let p = fci; p + 8 <= end; p += 8) out.fir++;
      return true;
    }
    if (fmt === FMT_AFB && total >= 20 && buf.readUInt32BE(fci) === REMB_ID) {
      // |'R' 'E' 'M' 'B'| Num SSRC (8) | BR Exp (6) | BR Mantissa (18) | SSRC feedback … |
      const w = buf.readUInt32BE(fci + 4);
      const count = w >>> 24;
      if (fci + 8 + 4 * count > end) return false;
      const bps = bitrate((w >>> 18) & 0x3f, w & 0x3ffff);
      out.rembBps = out.rembBps < 0 ? bps : Math.min(out.rembBps, bps);
      return true;
    }
    return true;
  }
  if (pt === RTCP_RTPFB) {
    if (fmt === FMT_NACK) {
      out.nack++;
      return true;
    }
    if (fmt === FMT_TMMBR || fmt === FMT_TMMBN) {
      // RFC 5104 §4.2.1.2: entries of SSRC (32) | MxTBR Exp (6) | MxTBR Mantissa (17) | Measured Overhead (9).
      if (fmt === FMT_TMMBN) {
        out.tmmbn = true;
        return true;
      }
      if (total - 12 < 8) return false;
      for (let p = fci; p + 8 <= end; p += 8) {
        const w = buf.readUInt32BE(p + 4);
        const bps = bitrate(w >>> 26, (w >>> 9) & 0x1ffff);
        if (out.tmmbrBps < 0 || bps < out.tmmbrBps) {
          out.tmmbrBps = bps;
          out.tmmbrSsrc = buf.readUInt32BE(p);
          out.tmmbrOverhead = w & 0x1ff;
        }
      }
      return true;
    }
    return true;
  }
  return false;
}

function header(buf: Buffer, offset: number, fmt: number, pt: number, words: number, sender: number, media: number): void {
  buf[offset] = 0x80 | fmt;
  buf[offset + 1] = pt;
  buf.writeUInt16BE(words, offset + 2);
  buf.writeUInt32BE(sender >>> 0, offset + 4);
  buf.writeUInt32BE(media >>> 0, offset + 8);
}

/** PLI from `sender` about `media` (RFC 4585 §6.3.1: no FCI); returns 12. */
export function writePli(sender: number, media: number, buf: Buffer, offset: number): number {
  header(buf, offset, FMT_PLI, RTCP_PSFB, 2, sender, media);
  return 12;
}

/** FIR from `sender` asking `target` for a decoder refresh point, command sequence number `seq` (RFC 5104 §4.3.1: media source SSRC 0); returns 20. */
export function writeFir(sender: number, target: number, seq: number, buf: Buffer, offset: number): number {
  header(buf, offset, FMT_FIR, RTCP_PSFB, 4, sender, 0);
  buf.writeUInt32BE(target >>> 0, offset + 12);
  buf.writeUInt32BE(((seq & 0xff) << 24) >>> 0, offset + 16);
  return 20;
}

/** Scratch for a bit rate's exponent and mantissa on the write path (written, read at once). */
const em = { exp: 0, mantissa: 0 };

/** Exponent and mantissa (of `mantissaBits`) for a bit rate, rounded down, into `em`. */
function encodeRate(bps: number, mantissaBits: number): void {
  let exp = 0;
  let m = Math.max(0, Math.floor(bps));
  const max = 2 ** mantissaBits - 1;
  while (m > max && exp < 63) {
    m = Math.floor(m / 2);
    exp++;
  }
  em.exp = exp;
  em.mantissa = m;
}

/**
 * TMMBN from `sender`: the bounding set Carillon accepts — one entry, the requester `ssrc` with
 * the rate `bps` and `overhead` it asked for (RFC 5104 §4.2.2: "the owner of the tuple"); returns 20.
 */
export function writeTmmbn(sender: number, ssrc: number, bps: number, overhead: number, buf: Buffer, offset: number): number {
  header(buf, offset, FMT_TMMBN, RTCP_RTPFB, 4, sender, 0);
  encodeRate(bps, 17);
  buf.writeUInt32BE(ssrc >>> 0, offset + 12);
  buf.writeUInt32BE(((em.exp << 26) | (em.mantissa << 9) | (overhead & 0x1ff)) >>> 0, offset + 16);
  return 20;
}

/** TMMBR from `sender` asking `target` to send at most `bps` (measured overhead 0); returns 20. */
export function writeTmmbr(sender: number, target: number, bps: number, buf: Buffer, offset: number): number {
  header(buf, offset, FMT_TMMBR, RTCP_RTPFB, 4, sender, 0);
  encodeRate(bps, 17);
  buf.writeUInt32BE(target >>> 0, offset + 12);
  buf.writeUInt32BE(((em.exp << 26) | (em.mantissa << 9)) >>> 0, offset + 16);
  return 20;
}

/** REMB from `sender` for the one stream `target`: at most `bps`; returns 24. */
export function writeRemb(sender: number, target: number, bps: number, buf: Buffer, offset: number): number {
  header(buf, offset, FMT_AFB, RTCP_PSFB, 5, sender, 0);
  encodeRate(bps, 18);
  buf.writeUInt32BE(REMB_ID, offset + 12);
  buf.writeUInt32BE(((1 << 24) | (em.exp << 18) | em.mantissa) >>> 0, offset + 16);
  buf.writeUInt32BE(target >>> 0, offset + 20);
  return 24;
}
