import type { TimerHandle, Timers } from '../../common/clock.ts';

/**
 * A periodic sweep that runs only while its table holds something: `arm()` after an insert
 * starts it, `sweep` returns whether anything is left (false stops it until the next `arm()`).
 * `close()` stops it for good; idempotent.
 */
export class SweepTimer {
  readonly #timers: Timers | undefined;
  readonly #intervalMs: number;
  readonly #sweep: () => boolean;
  #handle: TimerHandle | undefined;
  #closed = false;

  /** Without `timers` nothing is scheduled (the owner sweeps on use). */
  constructor(timers: Timers | undefined, intervalMs: number, sweep: () => boolean) {
    this.#timers = timers;
    this.#intervalMs = intervalMs;
    this.#sweep = sweep;
  }

  arm(): void {
    if (this.#handle !== undefined || this.#closed || this.#timers === undefined) return;
    this.#handle = this.#timers.setTimeout(() => this.#fire(), this.#intervalMs);
  }

  #fire(): void {
    this.#handle = undefined;
    if (this.#sweep()) this.arm();
  }

  close(): void {
    this.#closed = true;
    this.#timers?.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
