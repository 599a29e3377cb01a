import type { Timers } from '../../../common/clock.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, SipSender, Source } from '../transport/types.ts';
import { isReliable } from '../transport/types.ts';
import { serializeMessage } from '../message/serialize.ts';
import { releasedRequest, TransactionBase } from './transaction-base.ts';
import type { NistState, ServerTransaction, TransactionTimerConfig } from './types.ts';

/** RFC 3261 §17.2.2. */
export const NIST_TRANSITIONS = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
} as const satisfies Record<NistState, readonly NistState[]>;

export interface NistHooks {
  onTerminated(tx: NonInviteServerTransaction): void;
}

/** Non-INVITE server transaction: absorbs retransmissions; Timer J ends it. */
export class NonInviteServerTransaction extends TransactionBase<NistState> implements ServerTransaction {
  readonly kind = 'nist' as const;
  #request: SipRequest;
  readonly source: Source;
  readonly #dest: Destination;
  readonly #sender: SipSender;
  readonly #cfg: TransactionTimerConfig;
  readonly #hooks: NistHooks;
  readonly #reliable: boolean;
  #lastBytes: Buffer | undefined;

  constructor(req: SipRequest, source: Source, dest: Destination, sender: SipSender, timers: Timers, cfg: TransactionTimerConfig, hooks: NistHooks) {
    super('trying', NIST_TRANSITIONS, timers);
    this.#request = req;
    this.source = source;
    this.#dest = dest;
    this.#sender = sender;
    this.#cfg = cfg;
    this.#hooks = hooks;
    this.#reliable = isReliable(source.transport);
  }

  get request(): SipRequest {
    return this.#request;
  }

  get finalSent(): boolean {
    return this.state === 'completed' || this.state === 'terminated';
  }

  respond(res: SipResponse): void {
    const st = this.state;
    if (st !== 'trying' && st !== 'proceeding') return;
    this.#lastBytes = serializeMessage(res);
    this.#sender.sendRaw(this.#lastBytes, this.#dest, this.#onSendError);
    if (res.status >= 200) {
      this.#request = releasedRequest(this.#request.method);
      this.transition('completed');
    } else if (st === 'trying') this.transition('proceeding');
  }

  readonly #onSendError = (): void => {
    if (this.state !== 'terminated') this.transition('terminated');
  };

  /** A retransmission of the request: resend the last response (§17.2.2). */
  receive(): void {
    const st = this.state;
    if ((st === 'proceeding' || st === 'completed') && this.#lastBytes !== undefined) this.#sender.sendRaw(this.#lastBytes, this.#dest);
  }

  protected onEnter(to: NistState): void {
    switch (to) {
      case 'completed':
        this.timer(this.#reliable ? 0 : 64 * this.#cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'terminated':
        this.#lastBytes = undefined;
        this.#hooks.onTerminated(this);
        return;
      case 'trying':
      case 'proceeding':
        return;
      default: {
        const never: never = to;
        return never;
      }
    }
  }

  terminate(): void {
    if (this.state !== 'terminated') this.transition('terminated');
  }
}
