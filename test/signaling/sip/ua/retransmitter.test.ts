import { describe, expect, it } from 'vitest';
import { Retransmitter } from '../../../../signaling/sip/ua/retransmitter.ts';
import { ManualTimers } from '../../../support/manual-timers.ts';

describe('Retransmitter (RFC 3261 §13.3.1.4 schedule)', () => {
  it('resends at T1, 2T1, 4T1 … capped at T2 and gives up at 64·T1', () => {
    const t = new ManualTimers();
    const r = new Retransmitter(t, 500, 4000);
    const at: number[] = [];
    let gaveUp = false;
    r.start(false, () => at.push(t.monoMs()), () => (gaveUp = true));
    t.advance(32_000);
    expect(at.slice(0, 5)).toEqual([500, 1500, 3500, 7500, 11500]);
    expect(at.every((v, i) => i === 0 || v - (at[i - 1] as number) <= 4000)).toBe(true);
    expect(gaveUp).toBe(true);
    expect(r.active).toBe(false);
    expect(t.pendingCount).toBe(0);
  });

  it('never resends on a reliable transport but still gives up', () => {
    const t = new ManualTimers();
    const r = new Retransmitter(t, 500, 4000);
    let n = 0;
    let gaveUp = false;
    r.start(true, () => n++, () => (gaveUp = true));
    t.advance(40_000);
    expect(n).toBe(0);
    expect(gaveUp).toBe(true);
  });

  it('stop() ends everything', () => {
    const t = new ManualTimers();
    const r = new Retransmitter(t, 500, 4000);
    r.start(false, () => expect.unreachable(), () => expect.unreachable());
    r.stop();
    t.advance(100_000);
    expect(t.pendingCount).toBe(0);
  });
});
