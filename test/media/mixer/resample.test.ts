import { describe, expect, it } from 'vitest';
import { Downsampler, Upsampler } from '../../../media/mixer/resample.ts';
import { goertzel } from '../../support/goertzel.ts';

const tone = (hz: number, rate: number, frames: number, n: number, amp = 10000): Int16Array[] =>
  Array.from({ length: frames }, (_, f) => Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * (f * n + i)) / rate))));

describe('half-band resampler', () => {
  it('8→16 kHz keeps a 1 kHz tone (continuous across frames) and puts almost nothing at its 7 kHz image', () => {
    const up = new Upsampler(160);
    const out: number[] = [];
    const buf = new Int16Array(320);
    for (const f of tone(1000, 8000, 10, 160)) {
      up.process(f, buf);
      out.push(...buf);
    }
    const tail = out.slice(-1600);
    expect(goertzel(tail, 1000, 16000)).toBeGreaterThan(9800);
    expect(goertzel(tail, 1000, 16000)).toBeLessThan(10200);
    expect(goertzel(tail, 7000, 16000)).toBeLessThan(100);
  });

  it('16→8 kHz keeps a 1 kHz tone and strongly attenuates 6 kHz (which would alias to 2 kHz)', () => {
    const keep = new Downsampler(320);
    const reject = new Downsampler(320);
    const a: number[] = [];
    const b: number[] = [];
    const buf = new Int16Array(160);
    const ones = tone(1000, 16000, 10, 320);
    const sixes = tone(6000, 16000, 10, 320);
    for (let f = 0; f < 10; f++) {
      keep.process(ones[f] ?? new Int16Array(320), buf);
      a.push(...buf);
      reject.process(sixes[f] ?? new Int16Array(320), buf);
      b.push(...buf);
    }
    expect(goertzel(a.slice(-800), 1000, 8000)).toBeGreaterThan(9800);
    expect(goertzel(b.slice(-800), 2000, 8000)).toBeLessThan(500);
  });
});
