import type { TimerHandle, Timers } from '../../../common/clock.ts';
import { InternalError } from '../../../common/errors.ts';
import type { SipRequest } from '../message/types.ts';

/**
 * What every transaction machine shares: its state, a transition table checked on every move,
 * and the timers of the current state (all stopped when the state changes, STYLE.md 5).
 */
export abstract class TransactionBase<S extends string> {
  #state: S;
  readonly #table: Readonly<Record<S, readonly S[]>>;
  readonly #timers: Timers;
  #handles: TimerHandle[] = [];

  protected constructor(initial: S, table: Readonly<Record<S, readonly S[]>>, timers: Timers) {
    this.#state = initial;
    this.#table = table;
    this.#timers = timers;
  }

  get state(): S {
    return this.#state;
  }

  /** Moves to `to`: stops the old state's timers, then lets the machine enter the new state. */
  protected transition(to: S): void {
    const from = this.#state;
    if (from === to) return;
    if (!this.#table[from].includes(to)) throw new InternalError(`transaction ${from} → ${to} is not a legal transition`);
    this.clearTimers();
    this.#state = to;
    this.onEnter(to, from);
  }

  protected abstract onEnter(to: S, from: S): void;

  /** Starts a timer owned by the current state. */
  protected timer(ms: number, fn: () => void): void {
    this.#handles.push(this.#timers.setTimeout(fn, ms));
  }

  protected clearTimers(): void {
    for (const h of this.#handles) this.#timers.clearTimeout(h);
    this.#handles = [];
  }
}

const released = new Map<string, SipRequest>();

/**
 * Stand-in for a request a finished transaction no longer needs: lingering transactions (Timers
 * D, J, K, L, M absorb retransmissions for up to 64·T1) keep only bytes, so a busy server doesn't
 * hold every message of the last half-minute as objects.
 */
export function releasedRequest(method: string): SipRequest {
  let r = released.get(method);
  if (r === undefined) {
    r = { kind: 'request', method, uri: '', headers: [], body: Buffer.alloc(0) };
    if (released.size < 64) released.set(method, r);
  }
  return r;
}
