/**
 * A 20 ms tick that does not drift: every deadline is origin + n·period on the monotonic clock,
 * and each timer is set for the next deadline from the current time (never "period from now").
 * Lag = actual − ideal time of each tick run. When a timer fires late, missed ticks are run at
 * once, up to `maxCatchUp`; beyond that the rest are skipped (counted) and the schedule keeps its
 * phase.
 */
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';

export interface TickOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly periodMs?: number;
  /** Most ticks run in one timer callback. Default 5. */
  readonly maxCatchUp?: number;
  /** One tick; idealMs is its deadline on the monotonic clock, lagMs how late it runs. */
  readonly onTick: (idealMs: number, lagMs: number) => void;
}

export interface TickStats {
  ran: number;
  skipped: number;
  /** Ticks run after another in the same callback (catching up). */
  caughtUp: number;
  maxLagMs: number;
}

export class Ticker {
  readonly stats: TickStats = { ran: 0, skipped: 0, caughtUp: 0, maxLagMs: 0 };
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #period: number;
  readonly #maxCatchUp: number;
  readonly #onTick: TickOptions['onTick'];
  #origin = 0;
  /** Index of the next deadline: origin + next·period. */
  #next = 0;
  #timer: TimerHandle | undefined;
  #running = false;
  readonly #fire = (): void => this.#run();

  constructor(o: TickOptions) {
    this.#clock = o.clock;
    this.#timers = o.timers;
    this.#period = o.periodMs ?? 20;
    this.#maxCatchUp = Math.max(1, Math.floor(o.maxCatchUp ?? 5));
    this.#onTick = o.onTick;
  }

  /** Ideal time of the next tick. */
  get nextIdealMs(): number {
    return this.#origin + this.#next * this.#period;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#origin = this.#clock.monoMs();
    this.#next = 1;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const delay = this.nextIdealMs - this.#clock.monoMs();
    this.#timer = this.#timers.setTimeout(this.#fire, delay > 0 ? delay : 0);
  }

  #run(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    let ran = 0;
    while (this.#running && ran < this.#maxCatchUp && this.nextIdealMs <= this.#clock.monoMs()) {
      const ideal = this.nextIdealMs;
      const lag = this.#clock.monoMs() - ideal;
      if (lag > this.stats.maxLagMs) this.stats.maxLagMs = lag;
      this.#next++;
      if (ran > 0) this.stats.caughtUp++;
      ran++;
      this.stats.ran++;
      this.#onTick(ideal, lag);
    }
    if (!this.#running) return;
    const behind = this.#clock.monoMs();
    if (ran === this.#maxCatchUp && this.nextIdealMs <= behind) {
      const missed = Math.floor((behind - this.nextIdealMs) / this.#period) + 1;
      this.#next += missed;
      this.stats.skipped += missed;
    }
    this.#schedule();
  }
}
