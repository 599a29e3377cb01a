import { describe, expect, it } from 'vitest';
import { createCryptoRandom } from '../../../common/random.ts';
import { e164Of, orderByPriorityWeight } from '../../../signaling/routing/voice-connector-router.ts';

describe('voice connector routing helpers', () => {
  it('orders by priority, and splits equal priorities by weight', () => {
    const random = createCryptoRandom();
    const routes = [
      { id: 'backup', priority: 2, weight: 1 },
      { id: 'a', priority: 1, weight: 3 },
      { id: 'b', priority: 1, weight: 1 },
    ];
    let aFirst = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const order = orderByPriorityWeight(routes, random).map((r) => r.id);
      expect(order[2]).toBe('backup');
      if (order[0] === 'a') aFirst++;
    }
    // Weight 3 against 1: a first in 75 % of calls (binomial sd ≈ 0.7 % at n = 4000).
    expect(Math.abs(aFirst / n - 0.75)).toBeLessThan(0.04);
  });

  it('reads dialed numbers as E.164 with their country, and nothing else as a number', () => {
    expect(e164Of('+14155550123')).toEqual({ e164: '+14155550123', country: 'US' });
    expect(e164Of('442071838750')).toEqual({ e164: '+442071838750', country: 'GB' });
    expect(e164Of('alice')).toBeUndefined();
    expect(e164Of(undefined)).toBeUndefined();
  });
});
