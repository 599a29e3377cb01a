import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../../media/mixer/jitter-buffer.ts';

const payloadOf = (seq: number): Uint8Array => Uint8Array.of(seq & 0xff, (seq >> 8) & 0xff, 7);

/** Pushes the arrival order, popping once per "tick" after every `perTick` packets, then drains. */
function run(jb: JitterBuffer, arrivals: readonly number[], perTick: number, base: number): number[] {
  const out = new Uint8Array(16);
  const played: number[] = [];
  const pop = (): void => {
    if (jb.pop(out) === 'frame') played.push((out[0] ?? 0) | ((out[1] ?? 0) << 8));
  };
  arrivals.forEach((i, n) => {
    const seq = (base + i) & 0xffff;
    jb.push(seq, (base * 160 + i * 160) >>> 0, 42, payloadOf(seq), 3, n * 20);
    if ((n + 1) % perTick === 0) pop();
  });
  for (let i = 0; i < 200; i++) pop();
  return played;
}

describe('JitterBuffer', () => {
  it('any permutation, duplication and loss of a sequence plays in order, each at most once, never more than it got', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 120 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 1, max: 3 }),
        (arrivals, base, perTick) => {
          const jb = new JitterBuffer({ capacity: 16 });
          const played = run(jb, arrivals, perTick, base);
          const sent = new Set(arrivals.map((i) => (base + i) & 0xffff));
          expect(played.length).toBeLessThanOrEqual(sent.size);
          for (const s of played) expect(sent.has(s)).toBe(true);
          // In order modulo wrap: each step forward is 1..32767 sequence numbers.
          for (let i = 1; i < played.length; i++) {
            const step = ((played[i] ?? 0) - (played[i - 1] ?? 0) + 65536) & 0xffff;
            expect(step).toBeGreaterThan(0);
            expect(step).toBeLessThan(32768);
          }
          expect(new Set(played).size).toBe(played.length);
          expect(jb.depth).toBeLessThanOrEqual(16);
          const s = jb.stats;
          expect(s.received + s.late + s.duplicate + s.refused).toBe(arrivals.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a complete stream with bounded reordering plays every frame once, in order, across the wrap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 60, maxLength: 60 }), (base, shifts) => {
        // Each packet i arrives at position i + shift[i] (ties keep order): reordering by up to 3.
        const order = shifts.map((d, i) => [i + d, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([, i]) => i);
        const jb = new JitterBuffer({ capacity: 16, minDepth: 4 });
        const played = run(jb, order, 1, base);
        expect(played).toEqual(order.slice().sort((x, y) => x - y).map((i) => (base + i) & 0xffff));
      }),
      { numRuns: 300 },
    );
  });

  it('memory stays bounded: depth never exceeds capacity whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.boolean()), { maxLength: 300 }), (events) => {
        const jb = new JitterBuffer({ capacity: 8 });
        const out = new Uint8Array(4);
        for (const [seq, pop] of events) {
          jb.push(seq, seq * 160, 1, payloadOf(seq), 3, 0);
          if (pop) jb.pop(out);
          expect(jb.depth).toBeLessThanOrEqual(8);
          expect(jb.depth).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('reorders across the sequence wrap and counts duplicates and late packets', () => {
    const jb = new JitterBuffer({ minDepth: 3 });
    const out = new Uint8Array(4);
    // [sequence, position in the stream]: timestamps and arrival times consistent (no jitter).
    for (const [seq, k] of [[65534, 0], [0, 2], [65535, 1], [0, 2], [1, 3]] as const) jb.push(seq, k * 160, 9, payloadOf(seq), 3, k * 20);
    const played: number[] = [];
    for (let i = 0; i < 4; i++) if (jb.pop(out) === 'frame') played.push(jb.lastSeq & 0xffff);
    expect(played).toEqual([65534, 65535, 0, 1]);
    expect(jb.stats.duplicate).toBe(1);
    expect(jb.push(65535, 0, 9, payloadOf(1), 3, 0)).toBe('late');
    expect(jb.stats.late).toBe(1);
  });

  it('a missing frame with later ones buffered pops as lost and the next plays', () => {
    const jb = new JitterBuffer({ minDepth: 1 });
    const out = new Uint8Array(4);
    jb.push(10, 0, 1, payloadOf(10), 3, 0);
    jb.push(12, 320, 1, payloadOf(12), 3, 40);
    expect(jb.pop(out)).toBe('frame');
    expect(jb.pop(out)).toBe('lost');
    expect(jb.pop(out)).toBe('frame');
    expect(jb.lastSeq & 0xffff).toBe(12);
  });

  it('an SSRC change resets the buffer', () => {
    const jb = new JitterBuffer({ minDepth: 1 });
    const out = new Uint8Array(4);
    jb.push(100, 0, 1, payloadOf(100), 3, 0);
    jb.push(5, 0, 2, payloadOf(5), 3, 0);
    expect(jb.stats.resets).toBe(1);
    expect(jb.pop(out)).toBe('frame');
    expect(jb.lastSeq & 0xffff).toBe(5);
  });

  it('refuses oversized payloads and impossible sequence numbers', () => {
    const jb = new JitterBuffer({ maxPayloadBytes: 8 });
    expect(jb.push(1, 0, 1, new Uint8Array(9), 9, 0)).toBe('refused');
    expect(jb.push(70000, 0, 1, new Uint8Array(2), 2, 0)).toBe('refused');
    expect(jb.push(1, 0, 1, new Uint8Array(2), 5, 0)).toBe('refused');
    expect(jb.stats.refused).toBe(3);
  });

  it('the target depth grows with arrival jitter and stays within its bounds', () => {
    const steady = new JitterBuffer({ maxDepth: 6 });
    const jittery = new JitterBuffer({ maxDepth: 6 });
    const p = new Uint8Array(3);
    for (let i = 0; i < 200; i++) {
      steady.push(i, i * 160, 1, p, 3, i * 20);
      jittery.push(i, i * 160, 1, p, 3, i * 20 + (i % 2 === 0 ? 0 : 35));
    }
    expect(steady.targetDepth).toBe(1);
    expect(jittery.targetDepth).toBeGreaterThan(3);
    expect(jittery.targetDepth).toBeLessThanOrEqual(6);
  });
});
