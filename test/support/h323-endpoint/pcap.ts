/**
 * A minimal pcap writer (libpcap format, Ethernet/IPv4/TCP) so tests can hand the endpoint's TPKTs to
 * tshark: each segment becomes one TCP packet of its direction's stream, sequence numbers running on.
 * Checksums are left zero (tshark does not verify them by default).
 */

export interface PcapSegment {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
}

const SRC_IP = [10, 0, 0, 1];
const DST_IP = [10, 0, 0, 2];

export function writePcap(segments: readonly PcapSegment[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts: Buffer[] = [header];
  const seqs = new Map<string, number>();
  segments.forEach((s, i) => {
    // The lower port is the "server" end: its packets go from DST_IP.
    const key = `${s.srcPort}>${s.dstPort}`;
    const seq = seqs.get(key) ?? 1000;
    seqs.set(key, seq + s.payload.length);
    const ackSeq = seqs.get(`${s.dstPort}>${s.srcPort}`) ?? 1000;
    const fromServer = s.srcPort < s.dstPort;
    const eth = Buffer.from([2, 0, 0, 0, 0, fromServer ? 2 : 1, 2, 0, 0, 0, 0, fromServer ? 1 : 2, 0x08, 0x00]);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 20 + s.payload.length, 2);
    ip.writeUInt16BE(i & 0xffff, 4);
    ip[8] = 64;
    ip[9] = 6;
    Buffer.from(fromServer ? DST_IP : SRC_IP).copy(ip, 12);
    Buffer.from(fromServer ? SRC_IP : DST_IP).copy(ip, 16);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(s.srcPort, 0);
    tcp.writeUInt16BE(s.dstPort, 2);
    tcp.writeUInt32BE(seq, 4);
    tcp.writeUInt32BE(ackSeq, 8);
    tcp[12] = 0x50;
    tcp[13] = 0x18; // PSH, ACK
    tcp.writeUInt16BE(65535, 14);
    const frame = Buffer.concat([eth, ip, tcp, s.payload]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  });
  return Buffer.concat(parts);
}
