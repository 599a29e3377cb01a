/**
 * H.264 over RTP (RFC 6184): what the video switch needs to know of a packet without decoding
 * it — whether it begins a key frame (a receiver switched to this sender may start here), is an
 * ordinary part of a picture, or is malformed (not forwarded: a broken NAL unit would only make
 * every receiver's decoder conceal). Read in place; nothing allocated.
 *
 * The payload's first octet is a NAL unit header (§5.3):
 *
 *    +---------------+
 *    |0|1|2|3|4|5|6|7|
 *    +-+-+-+-+-+-+-+-+
 *    |F|NRI|  Type   |
 *    +---------------+
 *
 * Types 1–23 are single NAL units (§5.6), 24 STAP-A and 25 STAP-B aggregate several (§5.7.1),
 * 26/27 MTAP16/24 (§5.7.2), 28 FU-A and 29 FU-B fragment one (§5.8); 0, 30 and 31 are undefined.
 * "A value of 1 [in F] indicates that the NAL unit type octet and payload may contain bit errors
 * or other syntax violations" (§5.3).
 */

/** What a packet is to the switch. */
export type VideoPacketClass = 'key' | 'delta' | 'invalid';

/** NAL unit types of H.264 that start a decodable picture: IDR slice, SPS (precedes the IDR), PPS. */
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const STAP_A = 24;
const STAP_B = 25;
const MTAP16 = 26;
const MTAP24 = 27;
const FU_A = 28;
const FU_B = 29;

function startsPicture(nalType: number): boolean {
  return nalType === NAL_IDR || nalType === NAL_SPS || nalType === NAL_PPS;
}

/**
 * Classifies the RTP payload `buf[off, off + len)` of an H.264 stream. `mode0`: the stream was
 * negotiated with packetization-mode 0 (single NAL units only, RFC 6184 §6.2), where aggregates
 * and fragments are malformed.
 */
export function classifyH264(buf: Buffer, off: number, len: number, mode0: boolean): VideoPacketClass {
  if (len < 1) return 'invalid';
  const nal = buf[off] as number;
  if ((nal & 0x80) !== 0) return 'invalid';
  const type = nal & 0x1f;
  if (type >= 1 && type <= 23) return startsPicture(type) ? 'key' : 'delta';
  if (mode0) return 'invalid';
  switch (type) {
    case STAP_A:
    case STAP_B:
      return aggregate(buf, off + (type === STAP_B ? 3 : 1), off + len);
    case MTAP16:
    case MTAP24:
      return aggregate(buf, off + 3, off + len, type === MTAP16 ? 3 : 4);
    case FU_A:
    case FU_B: {
      // §5.8: FU indicator, FU header |S|E|R|Type|; FU-B adds a 16-bit DON after the header.
      const min = type === FU_B ? 5 : 3;
      if (len < min) return 'invalid';
      const fu = buf[off + 1] as number;
      const s = (fu & 0x80) !== 0;
      const e = (fu & 0x40) !== 0;
      const inner = fu & 0x1f;
      // "A fragmented NAL unit MUST NOT be transmitted in one FU; that is, the Start bit and End bit MUST NOT both be set to one in the same FU header."
      if ((s && e) || inner === 0 || inner >= STAP_A) return 'invalid';
      return s && startsPicture(inner) ? 'key' : 'delta';
    }
    default:
      return 'invalid';
  }
}

/**
 * Aggregation units: STAP (§5.7.1: 16-bit size, NAL unit) and MTAP (§5.7.2: after a 16-bit DONB,
 * 16-bit size, DOND (1), TS offset (2 or 3), NAL unit) — `unitHeader` octets between each size and
 * its NAL unit. Sizes must fill the payload exactly.
 */
function aggregate(buf: Buffer, start: number, end: number, unitHeader = 0): VideoPacketClass {
  let p = start;
  let key = false;
  let units = 0;
  if (start > end) return 'invalid';
  while (p < end) {
    if (p + 2 > end) return 'invalid';
    const size = buf.readUInt16BE(p);
    p += 2;
    if (size <= unitHeader || p + size > end) return 'invalid';
    const n = buf[p + unitHeader] as number;
    const t = n & 0x1f;
    if ((n & 0x80) !== 0 || t === 0 || t >= STAP_A) return 'invalid';
    if (startsPicture(t)) key = true;
    p += size;
    units++;
  }
  return units === 0 ? 'invalid' : key ? 'key' : 'delta';
}
