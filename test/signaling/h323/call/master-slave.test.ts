import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARILLON_TERMINAL_TYPE, determineMasterSlave, statusDeterminationNumber, TERMINAL_TYPE } from '../../../../signaling/h323/call/master-slave.ts';

describe('H.245 master/slave determination', () => {
  it('makes Carillon (an MCU) master over room systems and gateways, slave to a bigger MCU', () => {
    expect(determineMasterSlave({ terminalType: CARILLON_TERMINAL_TYPE, statusDeterminationNumber: 5 }, { terminalType: TERMINAL_TYPE.terminal, statusDeterminationNumber: 9 })).toEqual({ local: 'master', ackDecision: 'slave' });
    expect(determineMasterSlave({ terminalType: CARILLON_TERMINAL_TYPE, statusDeterminationNumber: 5 }, { terminalType: 240, statusDeterminationNumber: 9 })).toEqual({ local: 'slave', ackDecision: 'master' });
  });

  it('decides equal types by the difference of the numbers modulo 2^24, 0 and 2^23 being indeterminate', () => {
    const side = (n: number) => ({ terminalType: 50, statusDeterminationNumber: n });
    expect(determineMasterSlave(side(10), side(20)).local).toBe('master');
    expect(determineMasterSlave(side(20), side(10)).local).toBe('slave');
    expect(determineMasterSlave(side(0xfffff0), side(5)).local).toBe('master'); // wraps
    expect(determineMasterSlave(side(7), side(7)).local).toBe('indeterminate');
    expect(determineMasterSlave(side(1), side(1 + 0x800000)).local).toBe('indeterminate');
  });

  it('is antisymmetric: both ends reach opposite statuses from the same two messages', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 0xffffff }), (ta, tb, na, nb) => {
        const a = { terminalType: ta, statusDeterminationNumber: na };
        const b = { terminalType: tb, statusDeterminationNumber: nb };
        const x = determineMasterSlave(a, b);
        const y = determineMasterSlave(b, a);
        if (x.local === 'indeterminate') expect(y.local).toBe('indeterminate');
        else {
          expect(y.local).toBe(x.local === 'master' ? 'slave' : 'master');
          if (y.local !== 'indeterminate') expect(x.ackDecision).toBe(y.local);
        }
      }),
    );
    expect(statusDeterminationNumber(0)).toBe(0);
    expect(statusDeterminationNumber(0.999999999)).toBe(0xffffff);
  });
});
