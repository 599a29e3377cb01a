import type { TimerHandle, Timers } from '../../../common/clock.ts';

/**
 * Resends something on the RFC 3261 schedule — T1, 2·T1, 4·T1 … capped at T2 — until stopped,
 * and gives up after 64·T1 (§13.3.1.4 for a UAS's 2xx; RFC 3262 §3 for reliable provisionals).
 * On reliable transports nothing is resent but the give-up deadline still runs.
 */
export class Retransmitter {
  readonly #timers: Timers;
  readonly #t1Ms: number;
  readonly #t2Ms: number;
  #resend: (() => void) | undefined;
  #giveUp: (() => void) | undefined;
  #interval = 0;
  #tick: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;

  constructor(timers: Timers, t1Ms: number, t2Ms: number) {
    this.#timers = timers;
    this.#t1Ms = t1Ms;
    this.#t2Ms = t2Ms;
  }

  get active(): boolean {
    return this.#deadline !== undefined;
  }

  /** Starts the schedule. `resend` is not called now: the caller has just sent the first copy. */
  start(reliable: boolean, resend: () => void, giveUp: () => void): void {
    this.stop();
    this.#resend = resend;
    this.#giveUp = giveUp;
    this.#interval = this.#t1Ms;
    if (!reliable) this.#tick = this.#timers.setTimeout(this.#onTick, this.#interval);
    this.#deadline = this.#timers.setTimeout(this.#onDeadline, 64 * this.#t1Ms);
  }

  readonly #onTick = (): void => {
    this.#tick = undefined;
    this.#resend?.();
    this.#interval = Math.min(this.#interval * 2, this.#t2Ms);
    this.#tick = this.#timers.setTimeout(this.#onTick, this.#interval);
  };

  readonly #onDeadline = (): void => {
    const giveUp = this.#giveUp;
    this.stop();
    giveUp?.();
  };

  stop(): void {
    this.#timers.clearTimeout(this.#tick);
    this.#timers.clearTimeout(this.#deadline);
    this.#tick = undefined;
    this.#deadline = undefined;
    this.#resend = undefined;
    this.#giveUp = undefined;
  }
}
