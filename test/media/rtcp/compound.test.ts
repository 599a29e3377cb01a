import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOwnReport, createRtcpSummary, ntpFromUnixMs, readRtcpCompound, writeOwnReport } from '../../../media/rtcp/compound.ts';
import { ntpMiddle32 } from '../../../media/rtcp/sender-receiver-report.ts';

/** An XR packet with one DLRR block of the given sub-blocks (RFC 3611 §4.5). */
function xrDlrr(ssrc: number, subs: [number, number, number][]): Buffer {
  const b = Buffer.alloc(8 + 4 + 12 * subs.length);
  b[0] = 0x80;
  b[1] = 207;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(ssrc, 4);
  b[8] = 5;
  b.writeUInt16BE(3 * subs.length, 10);
  subs.forEach(([s, lrr, dlrr], i) => {
    b.writeUInt32BE(s, 12 + 12 * i);
    b.writeUInt32BE(lrr, 16 + 12 * i);
    b.writeUInt32BE(dlrr, 20 + 12 * i);
  });
  return b;
}

describe('compound RTCP', () => {
  it("reads back Carillon's own SR + block + SDES + XR RRTR as one well-formed compound", () => {
    const r = createOwnReport(0x1234, 'carillon@192.0.2.1');
    const ntp = ntpFromUnixMs(1_796_000_000_123);
    Object.assign(r, { ntpHigh: ntp.high, ntpLow: ntp.low, packetCount: 500, octetCount: 80000, hasBlock: true });
    Object.assign(r.block, { ssrc: 0xabc, fractionLost: 12, cumulativeLost: 7, extendedHighestSeq: 1500, jitter: 40, lsr: 0x11112222, dlsr: 6553 });
    const buf = Buffer.alloc(200);
    const len = writeOwnReport(r, buf);
    expect(len % 4).toBe(0);
    const s = createRtcpSummary();
    expect(readRtcpCompound(buf, len, s)).toBe(true);
    expect(s.malformed).toBe(false);
    expect(s.hasSr).toBe(true);
    expect(s.srSsrc).toBe(0x1234);
    expect(s.srMiddle32).toBe(ntpMiddle32(ntp.high, ntp.low));
    expect(s.blockCount).toBe(1);
    expect(s.blocks[0]).toEqual({ ssrc: 0xabc, fractionLost: 12, cumulativeLost: 7, extendedHighestSeq: 1500, jitter: 40, lsr: 0x11112222, dlsr: 6553 });
  });

  it('writes an RR (no sender info) when Carillon forwards nothing to that leg', () => {
    const r = createOwnReport(7, 'c');
    r.sender = false;
    r.hasBlock = true;
    const buf = Buffer.alloc(200);
    const len = writeOwnReport(r, buf);
    expect(buf[1]).toBe(201);
    const s = createRtcpSummary();
    expect(readRtcpCompound(buf, len, s)).toBe(true);
    expect(s.hasSr).toBe(false);
    expect(s.reporterSsrc).toBe(7);
    expect(s.blockCount).toBe(1);
  });

  it('reads XR DLRR sub-blocks and BYE', () => {
    const bye = Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 9]);
    const xr = xrDlrr(9, [
      [1, 0x01020304, 100],
      [2, 0x05060708, 200],
    ]);
    const s = createRtcpSummary();
    expect(readRtcpCompound(Buffer.concat([xr, bye]), xr.length + bye.length, s)).toBe(true);
    expect(s.bye).toBe(true);
    expect(s.dlrrCount).toBe(2);
    expect(s.dlrr[1]).toEqual({ ssrc: 2, lrr: 0x05060708, dlrr: 200 });
  });

  it('never throws and never reads past the datagram on random or truncated input', () => {
    const s = createRtcpSummary();
    const valid = Buffer.alloc(200);
    const own = createOwnReport(1, 'x');
    own.hasBlock = true;
    const validLen = writeOwnReport(own, valid);
    const boundaries = new Set<number>([validLen]);
    for (let off = 0; off < validLen; off += (valid.readUInt16BE(off + 2) + 1) * 4) boundaries.add(off);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(validLen), (bytes, cut) => {
        const b = Buffer.from(bytes);
        readRtcpCompound(b, b.length, s);
        expect(s.blockCount).toBeLessThanOrEqual(8);
        const t = Buffer.from(valid.subarray(0, cut));
        readRtcpCompound(t, t.length, s);
        // A cut inside a packet is reported as malformed; a cut between packets is a shorter compound.
        if (cut > 0) expect(s.malformed).toBe(!boundaries.has(cut));
      }),
      { numRuns: 3000 },
    );
  });
});
