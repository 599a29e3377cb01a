import { describe, expect, it } from 'vitest';
import type { TimerHandle, Timers } from '../../../common/clock.ts';
import { Ticker } from '../../../media/mixer/tick.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

/** Timers that fire `lateBy(n)` ms after they were due (a loaded event loop). */
function lateTimers(base: ManualTimers, lateBy: (n: number) => number): Timers {
  let n = 0;
  return {
    setTimeout: (fn, delayMs): TimerHandle => base.setTimeout(fn, delayMs + lateBy(n++)),
    clearTimeout: (h) => base.clearTimeout(h),
  };
}

describe('Ticker', () => {
  it('runs exactly 10,000 ticks in 200 s on the manual clock, each at its ideal time (no drift)', () => {
    const t = new ManualTimers();
    const ideals: number[] = [];
    const lags: number[] = [];
    const ticker = new Ticker({ clock: t, timers: t, onTick: (ideal, lag) => (ideals.push(ideal), lags.push(lag)) });
    ticker.start();
    t.advance(200_000);
    expect(ideals.length).toBe(10_000);
    ideals.forEach((ideal, i) => expect(ideal).toBe((i + 1) * 20));
    expect(Math.max(...lags)).toBe(0);
    expect(ticker.stats.skipped).toBe(0);
  });

  it('late timers do not make it drift: the count and phase stay on the ideal grid', () => {
    const t = new ManualTimers();
    const ideals: number[] = [];
    const ticker = new Ticker({ clock: t, timers: lateTimers(t, (n) => (n * 7) % 13), onTick: (ideal) => ideals.push(ideal) });
    ticker.start();
    t.advance(200_000 + 15); // past the last deadline by more than the worst lateness
    expect(ideals.length).toBe(10_000);
    ideals.forEach((ideal, i) => expect(ideal).toBe((i + 1) * 20));
    expect(ticker.stats.maxLagMs).toBeLessThanOrEqual(12);
  });

  it('catches up missed ticks up to the bound, then skips and counts the rest', () => {
    const t = new ManualTimers();
    const ideals: number[] = [];
    let stall = true;
    const ticker = new Ticker({
      clock: t,
      timers: lateTimers(t, (n) => (n === 0 && stall ? 200 : 0)),
      maxCatchUp: 3,
      onTick: (ideal) => ideals.push(ideal),
    });
    stall = true;
    ticker.start();
    t.advance(220); // the first timer fires at 220: deadlines 20..220 are due (11)
    expect(ideals).toEqual([20, 40, 60]);
    expect(ticker.stats.caughtUp).toBe(2);
    expect(ticker.stats.skipped).toBe(8);
    expect(ticker.nextIdealMs).toBe(240);
    t.advance(40);
    expect(ideals.slice(3)).toEqual([240, 260]);
  });

  it('stops', () => {
    const t = new ManualTimers();
    let n = 0;
    const ticker = new Ticker({ clock: t, timers: t, onTick: () => n++ });
    ticker.start();
    t.advance(100);
    ticker.stop();
    t.advance(100);
    expect(n).toBe(5);
    expect(t.pendingCount).toBe(0);
  });
});
