import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRtcpSummary, readRtcpCompound, writeEmptyRr, writeSdesCname } from '../../../media/rtcp/compound.ts';
import { writeFir, writePli, writeRemb, writeTmmbn, writeTmmbr } from '../../../media/rtcp/feedback.ts';

/** RTCP feedback (RFC 4585, RFC 5104, REMB) written by Carillon and read back in a compound. */
describe('RTCP feedback messages', () => {
  it('round-trips PLI, FIR, TMMBR, TMMBN and REMB inside a compound', () => {
    const buf = Buffer.alloc(256);
    let n = writeEmptyRr(0x1111, buf, 0);
    n = writeSdesCname(0x1111, 'carillon@test', buf, n);
    n += writePli(0x1111, 0x2222, buf, n);
    n += writeFir(0x1111, 0x2222, 7, buf, n);
    n += writeTmmbr(0x1111, 0x2222, 512_000, buf, n);
    n += writeRemb(0x1111, 0x2222, 1_500_000, buf, n);
    const s = createRtcpSummary();
    expect(readRtcpCompound(buf, n, s)).toBe(true);
    expect(s.malformed).toBe(false);
    expect(s.hasFeedback).toBe(true);
    expect(s.feedback).toMatchObject({ pli: 1, fir: 1, tmmbrSsrc: 0x2222, tmmbn: false });
    expect(s.feedback.tmmbrBps).toBeGreaterThan(511_000);
    expect(s.feedback.tmmbrBps).toBeLessThanOrEqual(512_000);
    expect(s.feedback.rembBps).toBeGreaterThan(1_499_000);
    expect(s.feedback.rembBps).toBeLessThanOrEqual(1_500_000);
    // A TMMBN, and the common header tshark shows: V=2, FMT 4, PT 205, length 4.
    const t = Buffer.alloc(64);
    let m = writeEmptyRr(1, t, 0);
    const at = m;
    m += writeTmmbn(1, 0x3333, 300_000, 40, t, m);
    expect([...t.subarray(at, at + 4)]).toEqual([0x84, 205, 0, 4]);
    expect(readRtcpCompound(t, m, s)).toBe(true);
    expect(s.feedback.tmmbn).toBe(true);
    expect(s.feedback.pli).toBe(0);
  });

  it('stops at a truncated feedback packet and never throws on random bytes', () => {
    const buf = Buffer.alloc(64);
    let n = writeEmptyRr(1, buf, 0);
    // A FIR that claims no FCI entry (length 2): malformed.
    buf.writeUInt32BE(0x84ce0002, n);
    buf.writeUInt32BE(1, n + 4);
    buf.writeUInt32BE(0, n + 8);
    n += 12;
    const s = createRtcpSummary();
    expect(readRtcpCompound(buf, n, s)).toBe(true);
    expect(s.malformed).toBe(true);
    expect(s.feedback.fir).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
        const b = Buffer.from(bytes);
        readRtcpCompound(b, b.length, s);
        // Feedback-typed headers around random bodies.
        if (b.length >= 4) {
          b[0] = 0x80 | ((b[0] ?? 0) & 0x1f);
          b[1] = (b[1] ?? 0) & 1 ? 205 : 206;
          readRtcpCompound(b, b.length, s);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
