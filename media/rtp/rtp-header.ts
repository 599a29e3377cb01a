/**
 * RTP fixed header (RFC 3550 §5.1), read in place into a reusable struct: the packet path
 * allocates nothing (STYLE.md 3).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           synchronization source (SSRC) identifier            |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |            contributing source (CSRC) identifiers             |
 *   |                             ....                              |
 */
export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload (after CSRCs and the header extension). */
  payloadOffset: number;
  /** Payload length in bytes, padding excluded. */
  payloadLength: number;
}

export function createRtpHeader(): RtpHeader {
  return { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadOffset: 0, payloadLength: 0 };
}

/** Why a datagram is not a usable RTP packet (a small closed set, for counters). */
export type RtpParseFault = 'short' | 'version' | 'csrc' | 'extension' | 'padding';

/**
 * Reads the header of `buf[0..length)` into `out`. Returns undefined on success or the fault.
 * Never throws, never allocates.
 */
export function parseRtpInto(buf: Buffer, length: number, out: RtpHeader): RtpParseFault | undefined {
  if (length < 12) return 'short';
  const b0 = buf[0] as number;
  if (b0 >> 6 !== 2) return 'version';
  const cc = b0 & 0x0f;
  let offset = 12 + cc * 4;
  if (offset > length) return 'csrc';
  if ((b0 & 0x10) !== 0) {
    // Header extension (§5.3.1): 16-bit profile, 16-bit length in 32-bit words.
    if (offset + 4 > length) return 'extension';
    const words = buf.readUInt16BE(offset + 2);
    offset += 4 + words * 4;
    if (offset > length) return 'extension';
  }
  let end = length;
  if ((b0 & 0x20) !== 0) {
    // Padding (§5.1): the last octet counts the padding octets, itself included.
    const pad = buf[length - 1] as number;
    if (pad === 0 || offset + pad > length) return 'padding';
    end -= pad;
  }
  const b1 = buf[1] as number;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequence = buf.readUInt16BE(2);
  out.timestamp = buf.readUInt32BE(4);
  out.ssrc = buf.readUInt32BE(8);
  out.payloadOffset = offset;
  out.payloadLength = end - offset;
  return undefined;
}

/** RTCP packet types 192–223 share the RTP port under rtcp-mux (RFC 5761 §4). */
export function isRtcpPayloadType(buf: Buffer, length: number): boolean {
  if (length < 2) return false;
  const pt = buf[1] as number;
  return pt >= 192 && pt <= 223;
}

/** Rewrites sequence, timestamp and SSRC in place (for continuity across re-INVITEs). */
export function rewriteRtpInPlace(buf: Buffer, sequence: number, timestamp: number, ssrc: number): void {
  buf.writeUInt16BE(sequence & 0xffff, 2);
  buf.writeUInt32BE(timestamp >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

/** Writes a minimal 12-byte header (no CSRC, extension or padding); returns bytes written. */
export function writeRtpHeader(h: Pick<RtpHeader, 'marker' | 'payloadType' | 'sequence' | 'timestamp' | 'ssrc'>, buf: Buffer, offset = 0): number {
  buf[offset] = 0x80;
  buf[offset + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequence & 0xffff, offset + 2);
  buf.writeUInt32BE(h.timestamp >>> 0, offset + 4);
  buf.writeUInt32BE(h.ssrc >>> 0, offset + 8);
  return 12;
}
