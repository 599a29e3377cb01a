/**
 * Per-key token buckets (requests per second with a burst allowance), for per-source rate
 * limits. Buckets refill lazily on use; idle full buckets are swept so the table stays small.
 */
export class TokenBuckets {
  readonly #ratePerSec: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(ratePerSec: number, burst: number) {
    this.#ratePerSec = ratePerSec;
    this.#burst = burst;
  }

  /** Takes one token for `key` at time `nowMs`; false when the bucket is empty. */
  take(key: string, nowMs: number): boolean {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.#burst, atMs: nowMs };
      this.#buckets.set(key, b);
    } else {
      const elapsed = nowMs - b.atMs;
      if (elapsed > 0) {
        b.tokens = Math.min(this.#burst, b.tokens + (elapsed * this.#ratePerSec) / 1000);
        b.atMs = nowMs;
      }
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled completely (idle keys). */
  sweep(nowMs: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((nowMs - b.atMs) * this.#ratePerSec) / 1000 >= this.#burst) this.#buckets.delete(k);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}
