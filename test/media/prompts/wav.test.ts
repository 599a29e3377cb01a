import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWav, writeWav } from '../../../media/prompts/wav.ts';

const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);

function withFmt(patch: (b: Buffer) => void): Buffer {
  const b = writeWav(samples);
  patch(b);
  return b;
}

describe('parseWav', () => {
  it('reads what writeWav writes', () => {
    const r = parseWav(writeWav(samples));
    expect(r.ok && Array.from(r.samples)).toEqual(Array.from(samples));
  });

  it('skips other chunks (LIST) and honours odd-size padding', () => {
    const w = writeWav(samples);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
    const b = Buffer.concat([w.subarray(0, 36), list, w.subarray(36)]);
    b.writeUInt32LE(b.length - 8, 4);
    const r = parseWav(b);
    expect(r.ok && Array.from(r.samples)).toEqual(Array.from(samples));
  });

  it.each([
    ['not-riff', Buffer.from('RIFX')],
    ['not-riff', withFmt((b) => b.write('AVI ', 8, 'latin1'))],
    ['not-pcm', withFmt((b) => b.writeUInt16LE(3, 20))],
    ['not-mono', withFmt((b) => b.writeUInt16LE(2, 22))],
    ['not-8khz', withFmt((b) => b.writeUInt32LE(16000, 24))],
    ['not-16-bit', withFmt((b) => b.writeUInt16LE(8, 34))],
    ['bad-block-align', withFmt((b) => b.writeUInt16LE(4, 32))],
    ['truncated-chunk', withFmt((b) => b.writeUInt32LE(0xffffffff, 40))],
    ['truncated-chunk', withFmt((b) => b.writeUInt32LE(8, 16))],
    ['no-data', withFmt((b) => b.write('junk', 36, 'latin1'))],
    ['no-fmt', withFmt((b) => b.write('junk', 12, 'latin1'))],
    ['empty', writeWav(new Int16Array(0))],
  ])('refuses %s', (error, buf) => {
    expect(parseWav(buf)).toEqual({ ok: false, error });
  });

  it('refuses odd data', () => {
    const w = writeWav(samples);
    const b = Buffer.concat([w.subarray(0, w.length - 1)]);
    b.writeUInt32LE(samples.length * 2 - 1, 40);
    expect(parseWav(b)).toEqual({ ok: false, error: 'odd-data' });
  });

  it('any bytes give a value, never an exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void parseWav(b)), { numRuns: 2_000 });
  });

  it('a good header with random bytes after it never throws', () => {
    const head = writeWav(samples).subarray(0, 44);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(43), (tail, cut) => {
        void parseWav(Buffer.concat([head.subarray(0, cut + 1), tail]));
        void parseWav(Buffer.concat([head, tail]));
      }),
      { numRuns: 2_000 },
    );
  });
});
