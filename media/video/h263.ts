/**
 * H.263 over RTP, as room systems that offer nothing newer send it: whether a packet begins an
 * intra-coded picture (a switched receiver may start there). Read in place; nothing allocated.
 *
 * RFC 2190 (payload type 34, "H263"), Mode A header (§5.1), the most common:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-----+-----+-----+-+-+-+-+-------+-------+-----+---------------+
 *   |F|P|SBIT |EBIT | SRC |I|U|S|A|R      |DBQ| TRB |    TR         |
 *   +-+-+-----+-----+-----+-+-+-+-+-------+-------+-----+---------------+
 *
 * F=1 P=0 is Mode B (8 octets), F=1 P=1 Mode C (12 octets), with I at the first bit of octet 4.
 * "I: 1 bit. Picture coding type, bit 9 in PTYPE defined by H.263, '0' is intra-coded, '1' is
 * inter-coded" (§5.1) — the header's I is set for an INTER picture, clear for INTRA.
 *
 * RFC 4629 ("H263-1998"/"H263-2000", §5.1): a 16-bit header |RR(5)|P|V|PLEN(6)|PEBIT(3)|; P=1
 * "indicates the picture start or a picture segment (GOB/Slice) start … the first two (all zero)
 * bytes of the start code are not transmitted". A picture start continues 1000 00 (the end of
 * the PSC), TR (8 bits), then PTYPE, whose bit 9 is the coding type (0 = INTRA) unless the source
 * format is 111 (PLUSPTYPE, §5.1.4.1 of H.263: then MPPTYPE's first three bits, 000 = I picture).
 */
import type { VideoPacketClass } from './h264.ts';

/** Bit `i` (0 = most significant of the first octet) of `buf` from `off`, or -1 past `end`. */
function bit(buf: Buffer, off: number, end: number, i: number): number {
  const at = off + (i >> 3);
  if (at >= end) return -1;
  return ((buf[at] as number) >> (7 - (i & 7))) & 1;
}

function bits(buf: Buffer, off: number, end: number, from: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const b = bit(buf, off, end, from + k);
    if (b < 0) return -1;
    v = (v << 1) | b;
  }
  return v;
}

/** RFC 2190 payload `buf[off, off + len)`. */
export function classifyH263(buf: Buffer, off: number, len: number): VideoPacketClass {
  if (len < 4) return 'invalid';
  const b0 = buf[off] as number;
  const f = (b0 & 0x80) !== 0;
  const p = (b0 & 0x40) !== 0;
  const header = !f ? 4 : p ? 12 : 8;
  if (len <= header) return 'invalid';
  const inter = !f ? ((buf[off + 1] as number) & 0x10) !== 0 : ((buf[off + 4] as number) & 0x80) !== 0;
  // A picture starts where the data begins with the picture start code (0000 0000 0000 0000 1000 00).
  const d = off + header;
  const psc = (buf[d] as number) === 0 && (buf[d + 1] as number) === 0 && ((buf[d + 2] as number) & 0xfc) === 0x80;
  return psc && !inter ? 'key' : 'delta';
}

/** RFC 4629 payload `buf[off, off + len)`. */
export function classifyH263Plus(buf: Buffer, off: number, len: number): VideoPacketClass {
  if (len < 2) return 'invalid';
  const h = buf.readUInt16BE(off);
  if (h >> 11 !== 0) return 'invalid';
  const p = (h & 0x0400) !== 0;
  const v = (h & 0x0200) !== 0;
  const plen = (h >> 3) & 0x3f;
  const start = off + 2 + (v ? 1 : 0) + plen;
  const end = off + len;
  if (start > end) return 'invalid';
  if (!p) return 'delta';
  // P=1: the data resumes the start code. A picture start continues 1000 00; a GOB/slice start does not.
  if (bits(buf, start, end, 0, 6) !== 0b100000) return 'delta';
  // PTYPE from bit 14: '1', '0', split, document camera, freeze release, source format (3), coding type.
  if (bits(buf, start, end, 14, 2) !== 0b10) return 'invalid';
  const format = bits(buf, start, end, 19, 3);
  if (format < 0) return 'invalid';
  if (format !== 0b111) return bit(buf, start, end, 22) === 0 ? 'key' : 'delta';
  // PLUSPTYPE: UFEP (3); with UFEP 001 the 18-bit OPPTYPE follows; then MPPTYPE's picture type code (3).
  const ufep = bits(buf, start, end, 22, 3);
  if (ufep < 0) return 'invalid';
  const mpptype = 25 + (ufep === 1 ? 18 : 0);
  const type = bits(buf, start, end, mpptype, 3);
  if (type < 0) return 'invalid';
  return type === 0 ? 'key' : 'delta';
}
