import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRtpHeader, isRtcpPayloadType, parseRtpInto, rewriteRtpInPlace, writeRtpHeader } from '../../../media/rtp/rtp-header.ts';

function packet(opts: { cc?: number; ext?: number; pad?: number; payload?: number } = {}): Buffer {
  const cc = opts.cc ?? 0;
  const extWords = opts.ext;
  const pad = opts.pad ?? 0;
  const payload = opts.payload ?? 160;
  const len = 12 + cc * 4 + (extWords === undefined ? 0 : 4 + extWords * 4) + payload + pad;
  const b = Buffer.alloc(len);
  b[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (extWords === undefined ? 0 : 0x10) | cc;
  b[1] = 0x80 | 8;
  b.writeUInt16BE(65535, 2);
  b.writeUInt32BE(0xdeadbeef, 4);
  b.writeUInt32BE(0x01020304, 8);
  if (extWords !== undefined) b.writeUInt16BE(extWords, 12 + cc * 4 + 2);
  if (pad > 0) b[len - 1] = pad;
  return b;
}

describe('RTP header (RFC 3550 §5.1)', () => {
  it('reads the fixed header in place', () => {
    const h = createRtpHeader();
    expect(parseRtpInto(packet(), 172, h)).toBeUndefined();
    expect(h).toEqual({ marker: true, payloadType: 8, sequence: 65535, timestamp: 0xdeadbeef, ssrc: 0x01020304, payloadOffset: 12, payloadLength: 160 });
  });

  it('skips CSRCs and the header extension, and drops padding', () => {
    const h = createRtpHeader();
    const b = packet({ cc: 2, ext: 3, pad: 4, payload: 20 });
    expect(parseRtpInto(b, b.length, h)).toBeUndefined();
    expect(h.payloadOffset).toBe(12 + 8 + 4 + 12);
    expect(h.payloadLength).toBe(20);
  });

  it.each([
    [Buffer.alloc(11), 'short'],
    [Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'version'],
    [Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'csrc'],
    [Buffer.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]), 'extension'],
    [Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'padding'],
  ])('faults: %#', (buf, fault) => {
    expect(parseRtpInto(buf, buf.length, createRtpHeader())).toBe(fault);
  });

  it('never throws on random bytes', () => {
    const h = createRtpHeader();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (u) => {
        const b = Buffer.from(u);
        const fault = parseRtpInto(b, b.length, h);
        if (fault === undefined) expect(h.payloadOffset + h.payloadLength).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('write and rewrite round-trip', () => {
    const b = Buffer.alloc(172);
    expect(writeRtpHeader({ marker: false, payloadType: 0, sequence: 7, timestamp: 160, ssrc: 42 }, b)).toBe(12);
    rewriteRtpInPlace(b, 65536 + 9, 2 ** 32 + 5, 43);
    const h = createRtpHeader();
    parseRtpInto(b, b.length, h);
    expect([h.sequence, h.timestamp, h.ssrc, h.marker, h.payloadType]).toEqual([9, 5, 43, false, 0]);
  });

  it('tells RTCP apart under rtcp-mux (RFC 5761)', () => {
    expect(isRtcpPayloadType(Buffer.from([0x80, 200]), 2)).toBe(true);
    expect(isRtcpPayloadType(Buffer.from([0x80, 0x80 | 8]), 2)).toBe(false);
  });
});
