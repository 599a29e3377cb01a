import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A fake clock with manual timers: time moves only when a test calls advance(). Timers fire in
 * due order; a timer set from inside a firing timer fires in the same advance() when it is due.
 */
export class ManualTimers implements Timers, Clock {
  #now = 0;
  #wallOrigin: number;
  #seq = 0;
  #pending = new Map<number, Pending>();

  constructor(wallOriginMs = 1_700_000_000_000) {
    this.#wallOrigin = wallOriginMs;
  }

  nowMs(): number {
    return this.#wallOrigin + this.#now;
  }

  monoMs(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = ++this.#seq;
    this.#pending.set(id, { id, at: this.#now + Math.max(0, delayMs), fn });
    return { __timer: true, id } as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.#pending.delete((handle as unknown as { id: number }).id);
  }

  /** Number of timers still pending. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Timers on this same clock whose pending ones are counted apart (one component's timers among
   * others, e.g. a user agent's beside its transaction layer's).
   */
  scope(): ManualTimerScope {
    return new ManualTimerScope(this);
  }

  /** Time passes with the event loop blocked (a stall): nothing fires until the next advance, and then everything overdue does. */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Moves time forward by ms, firing every timer that comes due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.#pending.values()) {
        if (p.at <= target && (next === undefined || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      }
      if (next === undefined) break;
      this.#pending.delete(next.id);
      // Overdue after a jump: it fires late, at the time it is now.
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }
}

/** A view of a ManualTimers that counts its own pending timers (see ManualTimers.scope). */
export class ManualTimerScope implements Timers {
  readonly #parent: ManualTimers;
  readonly #mine = new Set<TimerHandle>();

  constructor(parent: ManualTimers) {
    this.#parent = parent;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const handle = this.#parent.setTimeout(() => {
      this.#mine.delete(handle);
      fn();
    }, delayMs);
    this.#mine.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.#mine.delete(handle);
    this.#parent.clearTimeout(handle);
  }

  /** Number of this scope's timers still pending. */
  get pendingCount(): number {
    return this.#mine.size;
  }
}
