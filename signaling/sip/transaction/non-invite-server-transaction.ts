import { serializeMessage } from '../message/serialize.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, Source } from '../transport/types.ts';
import { ServerTransactionBase } from './transaction-base.ts';
import type { TerminationHook, TransactionEnv } from './transaction-base.ts';
import type { NistState, ServerTransaction } from './types.ts';

/** RFC 3261 §17.2.2. */
export const NIST_TRANSITIONS = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
} as const satisfies Record<NistState, readonly NistState[]>;

/** Non-INVITE server transaction: absorbs retransmissions; Timer J ends it. */
export class NonInviteServerTransaction extends ServerTransactionBase<NistState> implements ServerTransaction {
  readonly kind = 'nist' as const;
  readonly #hooks: TerminationHook<NonInviteServerTransaction>;

  constructor(req: SipRequest, source: Source, dest: Destination, env: TransactionEnv, hooks: TerminationHook<NonInviteServerTransaction>) {
    super('trying', NIST_TRANSITIONS, req, source, dest, env);
    this.#hooks = hooks;
  }

  get finalSent(): boolean {
    return this.state === 'completed' || this.state === 'terminated';
  }

  respond(res: SipResponse): void {
    const st = this.state;
    if (st !== 'trying' && st !== 'proceeding') return;
    this.sendResponse(serializeMessage(res));
    if (res.status >= 200) {
      this.release();
      this.transition('completed');
    } else if (st === 'trying') this.transition('proceeding');
  }

  /** A retransmission of the request: resend the last response (§17.2.2). */
  receive(): void {
    const st = this.state;
    if (st === 'proceeding' || st === 'completed') this.resend();
  }

  protected onEnter(to: NistState): void {
    switch (to) {
      case 'completed':
        this.timer(this.reliable ? 0 : 64 * this.env.cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'terminated':
        this.lastBytes = undefined;
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
}
