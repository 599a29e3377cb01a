import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../common/token-bucket.ts';

describe('TokenBuckets', () => {
  it('allows the burst, then the rate', () => {
    const b = new TokenBuckets(10, 5);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (b.take('a', 0)) ok++;
    expect(ok).toBe(5);
    expect(b.take('a', 50)).toBe(false); // 0.5 token refilled
    expect(b.take('a', 100)).toBe(true); // 1 token
    expect(b.take('a', 100)).toBe(false);
  });

  it('keeps sources apart and sweeps idle ones', () => {
    const b = new TokenBuckets(10, 2);
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('b', 0)).toBe(true);
    expect(b.size).toBe(2);
    b.sweep(10_000);
    expect(b.size).toBe(0);
  });
});
