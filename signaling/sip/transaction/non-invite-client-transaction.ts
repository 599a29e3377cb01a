import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, SendFailure } from '../transport/types.ts';
import { ClientTransactionBase } from './transaction-base.ts';
import type { TerminationHook, TransactionEnv } from './transaction-base.ts';
import type { ClientTransaction, ClientTransactionUser, NictState } from './types.ts';

/** RFC 3261 §17.1.2. */
export const NICT_TRANSITIONS = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
} as const satisfies Record<NictState, readonly NictState[]>;

/** Non-INVITE client transaction: Timers E (retransmit, capped at T2), F (timeout), K (absorb). */
export class NonInviteClientTransaction extends ClientTransactionBase<NictState> implements ClientTransaction {
  readonly kind = 'nict' as const;
  readonly #hooks: TerminationHook<NonInviteClientTransaction>;
  #intervalE = 0;

  constructor(req: SipRequest, dest: Destination, branch: string, env: TransactionEnv, user: ClientTransactionUser, hooks: TerminationHook<NonInviteClientTransaction>) {
    super('trying', NICT_TRANSITIONS, req, dest, branch, env, user);
    this.#hooks = hooks;
  }

  start(): void {
    this.sendFirst();
    this.#armE(this.env.cfg.t1Ms);
    this.timer(64 * this.env.cfg.t1Ms, this.#timerF);
  }

  #armE(ms: number): void {
    if (this.reliable) return;
    this.#intervalE = ms;
    this.timer(ms, this.#timerE);
  }

  readonly #timerE = (): void => {
    const st = this.state;
    if (st !== 'trying' && st !== 'proceeding') return;
    this.sendBytes(this.requestBytes);
    this.#armE(st === 'trying' ? Math.min(2 * this.#intervalE, this.env.cfg.t2Ms) : this.env.cfg.t2Ms);
  };

  readonly #timerF = (): void => {
    const st = this.state;
    if (st !== 'trying' && st !== 'proceeding') return;
    this.transition('terminated');
    this.user.onTimeout(this);
  };

  protected readonly onSendError = (f: SendFailure): void => {
    const st = this.state;
    if (st === 'terminated' || st === 'completed') return;
    this.transition('terminated');
    this.user.onTransportError(this, f);
  };

  receive(res: SipResponse): void {
    const st = this.state;
    switch (st) {
      case 'trying':
      case 'proceeding':
        if (res.status < 200) {
          // Leaving Trying keeps Timer F and moves E to T2 (§17.1.2.2).
          if (st === 'trying') this.transition('proceeding');
        } else {
          this.transition('completed');
        }
        this.user.onResponse(res, this);
        if (res.status >= 200) this.release();
        return;
      case 'completed':
      case 'terminated':
        return;
      default: {
        const never: never = st;
        return never;
      }
    }
  }

  protected onEnter(to: NictState): void {
    switch (to) {
      case 'proceeding':
        // transition() stopped E and F; re-arm both (F continues from a fresh 64·T1 bound).
        this.#armE(this.env.cfg.t2Ms);
        this.timer(64 * this.env.cfg.t1Ms, this.#timerF);
        return;
      case 'completed':
        this.timer(this.reliable ? 0 : this.env.cfg.t4Ms, () => this.transition('terminated'));
        return;
      case 'terminated':
        this.#hooks.onTerminated(this);
        return;
      case 'trying':
        return;
      default: {
        const never: never = to;
        return never;
      }
    }
  }
}
