import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, g711EncodeTable, g711Table, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { ffmpegG711 } from '../../support/mkv-check.ts';

const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const asArray = (b: Buffer): number[] => Array.from({ length: b.length / 2 }, (_, i) => b.readInt16LE(2 * i));

describe('G.711 decode tables', () => {
  it('µ-law: every code decodes as ffmpeg decodes it', () => {
    expect(Array.from(ULAW_TO_LINEAR)).toEqual(asArray(ffmpegG711(every, 'mulaw')));
  });

  it('A-law: every code decodes as ffmpeg decodes it', () => {
    expect(Array.from(ALAW_TO_LINEAR)).toEqual(asArray(ffmpegG711(every, 'alaw')));
  });

  it('PCMU is payload type 0, PCMA 8; other payload types have no table', () => {
    expect(g711Table(0)).toBe(ULAW_TO_LINEAR);
    expect(g711Table(8)).toBe(ALAW_TO_LINEAR);
    expect(g711Table(101)).toBeUndefined();
    expect(g711Table(9)).toBeUndefined();
  });
});

describe('G.711 encode tables', () => {
  it('every code round-trips (µ-law 0x7f, the second zero, encodes as 0xff)', () => {
    for (let c = 0; c < 256; c++) {
      expect(ALAW_TO_LINEAR[c]).toBeDefined();
      expect(LINEAR_TO_ALAW[(ALAW_TO_LINEAR[c] ?? 0) + 32768]).toBe(c);
      expect(LINEAR_TO_ULAW[(ULAW_TO_LINEAR[c] ?? 0) + 32768]).toBe(c === 0x7f ? 0xff : c);
    }
  });

  it('encoding picks the nearest code: decode(encode(v)) is within half a step of v', () => {
    for (let v = -32768; v <= 32767; v += 7) {
      for (const [enc, dec] of [[LINEAR_TO_ULAW, ULAW_TO_LINEAR], [LINEAR_TO_ALAW, ALAW_TO_LINEAR]] as const) {
        const back = dec[enc[v + 32768] ?? 0] ?? 0;
        const err = Math.abs(back - v);
        expect(err).toBeLessThanOrEqual(Math.max(16, Math.abs(v) / 16 + 16));
      }
    }
    expect(g711EncodeTable(0)).toBe(LINEAR_TO_ULAW);
    expect(g711EncodeTable(8)).toBe(LINEAR_TO_ALAW);
    expect(g711EncodeTable(18)).toBeUndefined();
  });
});
