import type { Timers } from '../../../common/clock.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, SendFailure, SipSender } from '../transport/types.ts';
import { isReliable } from '../transport/types.ts';
import { serializeMessage } from '../message/serialize.ts';
import { releasedRequest, TransactionBase } from './transaction-base.ts';
import type { ClientTransaction, ClientTransactionUser, NictState, TransactionTimerConfig } from './types.ts';

/** RFC 3261 §17.1.2. */
export const NICT_TRANSITIONS = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
} as const satisfies Record<NictState, readonly NictState[]>;

export interface NictHooks {
  onTerminated(tx: NonInviteClientTransaction): void;
}

/** Non-INVITE client transaction: Timers E (retransmit, capped at T2), F (timeout), K (absorb). */
export class NonInviteClientTransaction extends TransactionBase<NictState> implements ClientTransaction {
  readonly kind = 'nict' as const;
  #request: SipRequest;
  #requestBytes: Buffer | undefined;
  readonly destination: Destination;
  readonly branch: string;
  readonly #sender: SipSender;
  readonly #cfg: TransactionTimerConfig;
  readonly #user: ClientTransactionUser;
  readonly #hooks: NictHooks;
  readonly #reliable: boolean;
  #intervalE = 0;

  constructor(req: SipRequest, dest: Destination, branch: string, sender: SipSender, timers: Timers, cfg: TransactionTimerConfig, user: ClientTransactionUser, hooks: NictHooks) {
    super('trying', NICT_TRANSITIONS, timers);
    this.#request = req;
    this.destination = dest;
    this.branch = branch;
    this.#sender = sender;
    this.#cfg = cfg;
    this.#user = user;
    this.#hooks = hooks;
    this.#reliable = isReliable(dest.transport);
  }

  get request(): SipRequest {
    return this.#request;
  }

  start(): void {
    this.#requestBytes = serializeMessage(this.#request);
    this.#send();
    this.#armE(this.#cfg.t1Ms);
    this.timer(64 * this.#cfg.t1Ms, this.#timerF);
  }

  #armE(ms: number): void {
    if (this.#reliable) return;
    this.#intervalE = ms;
    this.timer(ms, this.#timerE);
  }

  readonly #timerE = (): void => {
    const st = this.state;
    if (st !== 'trying' && st !== 'proceeding') return;
    this.#send();
    this.#armE(st === 'trying' ? Math.min(2 * this.#intervalE, this.#cfg.t2Ms) : this.#cfg.t2Ms);
  };

  readonly #timerF = (): void => {
    const st = this.state;
    if (st !== 'trying' && st !== 'proceeding') return;
    this.transition('terminated');
    this.#user.onTimeout(this);
  };

  #send(): void {
    if (this.#requestBytes !== undefined) this.#sender.sendRaw(this.#requestBytes, this.destination, this.#onSendError);
  }

  readonly #onSendError = (f: SendFailure): void => {
    const st = this.state;
    if (st === 'terminated' || st === 'completed') return;
    this.transition('terminated');
    this.#user.onTransportError(this, f);
  };

  receive(res: SipResponse): void {
    const st = this.state;
    switch (st) {
      case 'trying':
      case 'proceeding':
        if (res.status < 200) {
          if (st === 'trying') {
            // Leaving Trying keeps Timer F and moves E to T2 (§17.1.2.2).
            this.transition('proceeding');
          }
        } else {
          this.transition('completed');
        }
        this.#user.onResponse(res, this);
        if (res.status >= 200) {
          this.#request = releasedRequest(this.#request.method);
          this.#requestBytes = undefined;
        }
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
        this.#armE(this.#cfg.t2Ms);
        this.timer(64 * this.#cfg.t1Ms, this.#timerF);
        return;
      case 'completed':
        this.timer(this.#reliable ? 0 : this.#cfg.t4Ms, () => this.transition('terminated'));
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

  terminate(): void {
    if (this.state !== 'terminated') this.transition('terminated');
  }
}
