import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyH263, classifyH263Plus } from '../../../media/video/h263.ts';
import { classifyH264 } from '../../../media/video/h264.ts';

/** RTP payloads of H.264 (RFC 6184) and H.263 (RFC 2190, RFC 4629) as the switch sees them. */
const h264 = (bytes: number[], mode0 = false) => classifyH264(Buffer.from(bytes), 0, bytes.length, mode0);

describe('H.264 packet classes (RFC 6184)', () => {
  it('tells key frames, picture parts and malformed payloads apart', () => {
    // Single NAL units: SPS, PPS, IDR start a picture; a non-IDR slice does not.
    expect(h264([0x67, 0x42, 0xe0, 0x1f])).toBe('key');
    expect(h264([0x68, 0xce, 0x3c, 0x80])).toBe('key');
    expect(h264([0x65, 0x88, 0x84])).toBe('key');
    expect(h264([0x41, 0x9a])).toBe('delta');
    expect(h264([0x06, 0x05])).toBe('delta'); // SEI
    // STAP-A (§5.7.1) with SPS + PPS; with a slice only; sizes that overrun; an empty one.
    expect(h264([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce])).toBe('key');
    expect(h264([0x78, 0x00, 0x02, 0x41, 0x9a])).toBe('delta');
    expect(h264([0x78, 0x00, 0x09, 0x65])).toBe('invalid');
    expect(h264([0x78])).toBe('invalid');
    expect(h264([0x78, 0x00, 0x00])).toBe('invalid');
    // MTAP16 (§5.7.2): DONB, then size, DOND, 16-bit TS offset, NAL unit; a size that leaves no NAL unit.
    expect(h264([0x7a, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x65, 0x88])).toBe('key');
    expect(h264([0x7a, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00])).toBe('invalid');
    // FU-A (§5.8): start of an IDR; its continuation; S and E both set; a fragment of an aggregate.
    expect(h264([0x7c, 0x85, 0x88])).toBe('key');
    expect(h264([0x7c, 0x05, 0x88])).toBe('delta');
    expect(h264([0x7c, 0xc5, 0x00])).toBe('invalid');
    expect(h264([0x7c, 0x98, 0x00])).toBe('invalid');
    expect(h264([0x7c])).toBe('invalid');
    // F bit, undefined types, nothing at all.
    expect(h264([0xe5, 0x00])).toBe('invalid');
    expect(h264([0x00])).toBe('invalid');
    expect(h264([0x1e])).toBe('invalid');
    expect(h264([])).toBe('invalid');
    // Packetization mode 0 takes single NAL units only.
    expect(h264([0x7c, 0x85, 0x88], true)).toBe('invalid');
    expect(h264([0x65, 0x88], true)).toBe('key');
  });

  it('classifies any bytes without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, mode0) => {
        const b = Buffer.from(bytes);
        for (const f of [() => classifyH264(b, 0, b.length, mode0), () => classifyH263(b, 0, b.length), () => classifyH263Plus(b, 0, b.length)]) expect(['key', 'delta', 'invalid']).toContain(f());
      }),
      { numRuns: 5000 },
    );
  });
});

describe('H.263 packet classes', () => {
  it('RFC 2190 Mode A: an intra picture start is a key frame', () => {
    // F=0 P=0, SRC=2 (QCIF), I=0 (intra) then PSC 0000 0000 0000 0000 1000 00..
    expect(classifyH263(Buffer.from([0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x80, 0x02]), 0, 8)).toBe('key');
    // I=1: inter-coded.
    expect(classifyH263(Buffer.from([0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x80, 0x02]), 0, 8)).toBe('delta');
    // Intra but mid-picture (no PSC): not where a decoder can start.
    expect(classifyH263(Buffer.from([0x00, 0x40, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78]), 0, 8)).toBe('delta');
    expect(classifyH263(Buffer.from([0x00, 0x40, 0x00]), 0, 3)).toBe('invalid');
  });

  it('RFC 4629: a picture start with PTYPE coding type INTRA is a key frame', () => {
    // Header P=1 (0x0400); data 1000 00 | TR 8 bits | PTYPE 1 0 0 0 0 | format 010 (QCIF) | type 0 (INTRA).
    const bits = '100000' + '00000001' + '10' + '000' + '010' + '0' + '000000000';
    const bytes = [0x04, 0x00];
    for (let i = 0; i < bits.length; i += 8) bytes.push(Number.parseInt(bits.slice(i, i + 8).padEnd(8, '0'), 2));
    expect(classifyH263Plus(Buffer.from(bytes), 0, bytes.length)).toBe('key');
    const inter = bits.slice(0, 22) + '1' + bits.slice(23);
    const ib = [0x04, 0x00];
    for (let i = 0; i < inter.length; i += 8) ib.push(Number.parseInt(inter.slice(i, i + 8).padEnd(8, '0'), 2));
    expect(classifyH263Plus(Buffer.from(ib), 0, ib.length)).toBe('delta');
    // No P bit: a continuation.
    expect(classifyH263Plus(Buffer.from([0x00, 0x00, 0x12]), 0, 3)).toBe('delta');
    // Reserved bits set.
    expect(classifyH263Plus(Buffer.from([0x84, 0x00, 0x80]), 0, 3)).toBe('invalid');
  });
});
