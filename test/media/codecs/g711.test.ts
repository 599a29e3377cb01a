import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, g711Table, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
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
