import { describe, expect, it } from 'vitest';
import { StreamStats } from '../../../media/quality/stream-stats.ts';

/** Feeds a G.711 stream: seq from `first`, 20 ms spacing, arrival jitter from `delayMs(i)`. */
function feed(s: StreamStats, seqs: number[], delayMs: (i: number) => number = () => 0): void {
  seqs.forEach((seq, i) => s.update(seq & 0xffff, ((seq - seqs[0]!) * 160) >>> 0, i * 20 + delayMs(i), 160));
}

describe('RTP receive statistics (RFC 3550 A.1/A.3/A.8)', () => {
  it('counts a clean stream after probation, no loss, no jitter', () => {
    const s = new StreamStats(8000);
    feed(s, Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(s.received).toBe(99); // the first packet is probation
    expect(s.cumulativeLost).toBe(0);
    expect(s.jitter).toBeCloseTo(0, 6);
    expect(s.takeFractionLost()).toBe(0);
  });

  it('counts loss exactly across a sequence wrap', () => {
    const s = new StreamStats(8000);
    const seqs: number[] = [];
    for (let i = 0; i < 200; i++) if (i % 10 !== 5) seqs.push(65500 + i); // 10 % lost, wraps at 65536
    feed(s, seqs);
    expect(s.extendedMax).toBe(65536 + (65500 + 199 - 65536));
    expect(s.cumulativeLost).toBe(20);
    expect(s.takeFractionLost()).toBe(Math.floor((20 << 8) / s.expected));
    expect(s.takeFractionLost()).toBe(0);
  });

  it('reordering and duplicates do not count as loss, and duplicates cannot hide loss', () => {
    const s = new StreamStats(8000);
    feed(s, [1, 2, 3, 5, 4, 6, 7, 7, 8]);
    expect(s.cumulativeLost).toBe(0);
    expect(s.duplicates).toBe(1);
    const t = new StreamStats(8000);
    feed(t, [65530, 65531, 65532, 65534, 65535, 2, 65533, 0, 3, 3, 65535]); // loses 1; reorder and duplicates across the wrap
    expect(t.cumulativeLost).toBe(1);
    expect(t.duplicates).toBe(2);
  });

  it('jitter converges to the mean absolute transit difference / (15/16 filter)', () => {
    const s = new StreamStats(8000);
    // Alternating ±5 ms arrival offset: |D| = 10 ms = 80 timestamp units every packet.
    feed(s, Array.from({ length: 2000 }, (_, i) => i), (i) => (i % 2 === 0 ? 5 : -5));
    expect(s.jitter).toBeCloseTo(80, 1);
    expect(s.jitterUs).toBeCloseTo(10_000, -1);
  });

  it('resynchronises after a large jump confirmed by the next packet', () => {
    const s = new StreamStats(8000);
    feed(s, [10, 11, 12, 13]);
    expect(s.update(40000, 0, 100, 160)).toBe(false);
    expect(s.update(40001, 160, 120, 160)).toBe(true);
    expect(s.cumulativeLost).toBe(0);
  });
});
