/**
 * Time and timers are injected (STYLE.md 6): nothing under signaling/ or media/ calls Date.now or
 * setTimeout directly. Production wires the node adapters; tests wire test/support/fake-clock.ts.
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (for timestamps in records). */
  nowMs(): number;
  /** Monotonic milliseconds from an arbitrary origin (for durations and rate limits). */
  monoMs(): number;
}

export interface TimerHandle {
  readonly __timer: true;
}

export interface Timers {
  /** Calls fn once after delayMs. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
};

export const nodeTimers: Timers = {
  setTimeout(fn, delayMs) {
    const t = setTimeout(fn, delayMs);
    t.unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};
