import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSenderReceiverReport, ntpMiddle32, parseSenderReceiverReportInto, RTCP_RR, RTCP_SR, writeSenderReceiverReport } from '../../../media/rtcp/sender-receiver-report.ts';

describe('RTCP SR/RR (RFC 3550 §6.4)', () => {
  it('round-trips an SR with two report blocks, negative cumulative loss included', () => {
    const r = createSenderReceiverReport();
    Object.assign(r, { packetType: RTCP_SR, ssrc: 1, ntpHigh: 0xe1234567, ntpLow: 0x89abcdef, rtpTimestamp: 160, packetCount: 50, octetCount: 8000, blockCount: 2 });
    Object.assign(r.blocks[0]!, { ssrc: 2, fractionLost: 25, cumulativeLost: -3, extendedHighestSeq: 70000, jitter: 80, lsr: 0x4567_89ab, dlsr: 65536 });
    Object.assign(r.blocks[1]!, { ssrc: 3, fractionLost: 0, cumulativeLost: 0x7fffff, extendedHighestSeq: 1, jitter: 0, lsr: 0, dlsr: 0 });
    const buf = Buffer.alloc(200);
    const n = writeSenderReceiverReport(r, buf, 4);
    expect(n).toBe(8 + 20 + 48);
    const back = createSenderReceiverReport();
    expect(parseSenderReceiverReportInto(buf, 4, 4 + n, back)).toBe(n);
    expect({ ...back, blocks: back.blocks.slice(0, 2) }).toEqual({ ...r, blocks: r.blocks.slice(0, 2) });
  });

  it('round-trips an RR', () => {
    const r = createSenderReceiverReport();
    Object.assign(r, { packetType: RTCP_RR, ssrc: 9, blockCount: 1 });
    const buf = Buffer.alloc(64);
    const n = writeSenderReceiverReport(r, buf, 0);
    expect(n).toBe(32);
    const back = createSenderReceiverReport();
    expect(parseSenderReceiverReportInto(buf, 0, n, back)).toBe(32);
    expect(back.packetType).toBe(RTCP_RR);
  });

  it('rejects truncated and foreign packets, never throwing on random bytes', () => {
    const out = createSenderReceiverReport();
    expect(parseSenderReceiverReportInto(Buffer.from([0x81, 200, 0, 12, 0, 0, 0, 1]), 0, 8, out)).toBe('length');
    expect(parseSenderReceiverReportInto(Buffer.from([0x80, 202, 0, 1, 0, 0, 0, 1]), 0, 8, out)).toBe('type');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        const b = Buffer.from(u);
        const r = parseSenderReceiverReportInto(b, 0, b.length, out);
        if (typeof r === 'number') expect(r).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('LSR is the middle 32 bits of the NTP timestamp', () => {
    expect(ntpMiddle32(0x0000_1234, 0x5678_0000)).toBe(0x1234_5678);
  });
});
