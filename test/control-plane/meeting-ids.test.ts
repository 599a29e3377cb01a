import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Random } from '../../common/random.ts';
import { ALLOCATION_TRIES, allocatePins, isUniqueViolation, randomDigits } from '../../control-plane/api/meetings/ids.ts';

/** A Random replaying `floats` (cycled), for predictable digits. */
function replay(floats: readonly number[]): Random {
  let i = 0;
  return { token: (n) => 'a'.repeat(n), float: () => floats[i++ % floats.length] ?? 0 };
}

describe('dial-in meeting IDs', () => {
  it('are exactly n decimal digits for any float in [0, 1)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 40 }), (floats, n) => {
        expect(randomDigits(replay(floats), n)).toMatch(new RegExp(`^\\d{${n}}$`));
      }),
    );
  });

  it('retries on a unique-index violation (SQLite or PostgreSQL) and on a PIN taken by a user', async () => {
    const used = new Set<string>();
    const random = replay([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.05, 0.15, 0.25, 0.35, 0.45, 0.55]);
    const insert = async (m: string, h: string): Promise<string> => {
      if (used.has(m)) throw Object.assign(new Error('dup'), { code: used.size % 2 === 0 ? '23505' : 'SQLITE_CONSTRAINT_UNIQUE' });
      used.add(m);
      return `${m}/${h}`;
    };
    const first = await allocatePins(random, async () => false, insert);
    const second = await allocatePins(random, async () => false, insert);
    expect(first).not.toBe(second);
    let asked = 0;
    const third = await allocatePins(random, async () => asked++ === 0, insert);
    expect(asked).toBe(2);
    expect(third.split('/')[0]).toMatch(/^\d{10}$/);
  });

  it('gives up after a bounded number of tries, and passes other errors through', async () => {
    await expect(allocatePins(replay([0.5]), async () => true, async () => 'never')).rejects.toThrow(`no free meeting ID after ${ALLOCATION_TRIES} tries`);
    await expect(allocatePins(replay([0.5]), async () => false, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(isUniqueViolation({ code: '23505' })).toBe(true);
    expect(isUniqueViolation(new Error('x'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });
});
