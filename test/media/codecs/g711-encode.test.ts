import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { encodeAlaw, encodeUlaw, linearToAlaw, linearToUlaw } from '../../../media/codecs/g711-encode.ts';

describe('G.711 encoding', () => {
  it('every µ-law code round-trips through its linear value (0x7f, −0, encodes as +0)', () => {
    for (let c = 0; c < 256; c++) expect(linearToUlaw(ULAW_TO_LINEAR[c] as number)).toBe(c === 0x7f ? 0xff : c);
  });

  it('every A-law code round-trips through its linear value', () => {
    for (let c = 0; c < 256; c++) expect(linearToAlaw(ALAW_TO_LINEAR[c] as number)).toBe(c);
  });

  it('known values: silence, full scale', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  it('any sample decodes back within the quantisation step, with its sign', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (x) => {
        for (const [enc, table] of [
          [linearToUlaw, ULAW_TO_LINEAR],
          [linearToAlaw, ALAW_TO_LINEAR],
        ] as const) {
          const back = table[enc(x)] as number;
          expect(Math.abs(back - x)).toBeLessThanOrEqual(Math.max(64, Math.abs(x) / 16) + 1);
          if (Math.abs(x) > 64) expect(Math.sign(back)).toBe(Math.sign(x));
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('encodes a frame into the caller’s buffer', () => {
    const src = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 5)));
    const u = new Uint8Array(160);
    const a = new Uint8Array(160);
    expect(encodeUlaw(src, u)).toBe(160);
    expect(encodeAlaw(src, a)).toBe(160);
    expect(Array.from(u)).toEqual(Array.from(src, linearToUlaw));
    expect(Array.from(a)).toEqual(Array.from(src, linearToAlaw));
  });
});
