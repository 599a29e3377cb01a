import { describe, expect, it } from 'vitest';
import { mos, mosFromR, rFactor } from '../../../media/quality/mos.ts';

describe('MOS from the G.107 E-model', () => {
  it('tops out at 4.4 on the narrowband scale', () => {
    expect(mos({ lossPct: 0, jitterUs: 0, rttUs: 0 })).toBe(4.4);
    expect(mosFromR(150)).toBe(4.4);
    expect(mosFromR(-5)).toBe(1);
  });

  it('1 % random loss on G.711 with PLC: R ≈ 89.1, MOS ≈ 4.32', () => {
    const r = rFactor({ lossPct: 1, jitterUs: 0, rttUs: 0 });
    expect(r).toBeCloseTo(93.2 - 0.024 * 20 - 95 / 26.1, 6);
    expect(mos({ lossPct: 1, jitterUs: 0, rttUs: 0 })).toBeCloseTo(4.316, 2);
  });

  it('falls monotonically with loss, jitter and delay, never below 1.0', () => {
    let prev = 5;
    for (let loss = 0; loss <= 100; loss += 1) {
      const m = mos({ lossPct: loss, jitterUs: 0, rttUs: 0 });
      expect(m).toBeLessThanOrEqual(prev);
      expect(m).toBeGreaterThanOrEqual(1);
      prev = m;
    }
    expect(mos({ lossPct: 0, jitterUs: 30_000, rttUs: 0 })).toBeLessThan(mos({ lossPct: 0, jitterUs: 5_000, rttUs: 0 }));
    // Beyond 177.3 ms one-way the delay impairment steepens.
    expect(mos({ lossPct: 0, jitterUs: 0, rttUs: 600_000 })).toBeLessThan(4.0);
  });
});
