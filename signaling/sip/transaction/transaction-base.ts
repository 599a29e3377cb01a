import type { TimerHandle, Timers } from '../../../common/clock.ts';
import { InternalError } from '../../../common/errors.ts';
import { serializeMessage } from '../message/serialize.ts';
import type { SipRequest } from '../message/types.ts';
import type { Destination, SendFailure, SipSender, Source } from '../transport/types.ts';
import { isReliable } from '../transport/types.ts';
import type { ClientTransactionUser, TransactionTimerConfig } from './types.ts';

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

  /** Stops every timer and ends the transaction at once. Idempotent. */
  terminate(): void {
    if ((this.#state as string) !== 'terminated') this.transition('terminated' as S);
  }

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

/** What every transaction of one layer shares. */
export interface TransactionEnv {
  readonly sender: SipSender;
  readonly timers: Timers;
  readonly cfg: TransactionTimerConfig;
}

/** Told when a transaction reaches Terminated, so the layer forgets it. */
export interface TerminationHook<T> {
  onTerminated(tx: T): void;
}

/**
 * The client side common to ICT and NICT: the request (as an object while the TU may read it,
 * then as bytes only), its destination and branch, and sending with transport-error reporting.
 */
export abstract class ClientTransactionBase<S extends string> extends TransactionBase<S> {
  readonly destination: Destination;
  readonly branch: string;
  protected readonly env: TransactionEnv;
  protected readonly user: ClientTransactionUser;
  protected readonly reliable: boolean;
  #request: SipRequest;
  protected requestBytes: Buffer | undefined;

  protected constructor(initial: S, table: Readonly<Record<S, readonly S[]>>, req: SipRequest, dest: Destination, branch: string, env: TransactionEnv, user: ClientTransactionUser) {
    super(initial, table, env.timers);
    this.#request = req;
    this.destination = dest;
    this.branch = branch;
    this.env = env;
    this.user = user;
    this.reliable = isReliable(dest.transport);
  }

  get request(): SipRequest {
    return this.#request;
  }

  /** Serializes the request once and sends it. */
  protected sendFirst(): void {
    this.requestBytes = serializeMessage(this.#request);
    this.sendBytes(this.requestBytes);
  }

  protected sendBytes(bytes: Buffer | undefined): void {
    if (bytes !== undefined) this.env.sender.sendRaw(bytes, this.destination, this.onSendError);
  }

  protected abstract readonly onSendError: (f: SendFailure) => void;

  /** Keeps only what absorbing retransmissions needs (once the TU has seen the final). */
  protected release(): void {
    this.#request = releasedRequest(this.#request.method);
    this.requestBytes = undefined;
  }
}

/**
 * The server side common to IST and NIST: the request (released once a final is sent), where
 * responses go (RFC 3261 §18.2.2), and the last response kept as bytes for retransmissions.
 */
export abstract class ServerTransactionBase<S extends string> extends TransactionBase<S> {
  readonly source: Source;
  protected readonly dest: Destination;
  protected readonly env: TransactionEnv;
  protected readonly reliable: boolean;
  #request: SipRequest;
  protected lastBytes: Buffer | undefined;

  protected constructor(initial: S, table: Readonly<Record<S, readonly S[]>>, req: SipRequest, source: Source, dest: Destination, env: TransactionEnv) {
    super(initial, table, env.timers);
    this.#request = req;
    this.source = source;
    this.dest = dest;
    this.env = env;
    this.reliable = isReliable(source.transport);
  }

  get request(): SipRequest {
    return this.#request;
  }

  /** Sends a response and keeps its bytes as the one to repeat. */
  protected sendResponse(bytes: Buffer): void {
    this.lastBytes = bytes;
    this.env.sender.sendRaw(bytes, this.dest, this.onSendError);
  }

  /** Resends the last response (a retransmitted request, or Timer G). */
  protected resend(): void {
    if (this.lastBytes !== undefined) this.env.sender.sendRaw(this.lastBytes, this.dest, this.onSendError);
  }

  protected release(): void {
    this.#request = releasedRequest(this.#request.method);
  }

  /** A transport error ends a server transaction (RFC 3261 §17.2.4). */
  protected readonly onSendError: () => void = (): void => this.terminate();
}
