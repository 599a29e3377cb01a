import { serializeMessage } from '../message/serialize.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, Source } from '../transport/types.ts';
import { ServerTransactionBase } from './transaction-base.ts';
import type { TerminationHook, TransactionEnv } from './transaction-base.ts';
import type { IstState, ServerTransaction, TransactionUser } from './types.ts';

/** RFC 3261 §17.2.1 with RFC 6026 (Accepted state). */
export const IST_TRANSITIONS = {
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
} as const satisfies Record<IstState, readonly IstState[]>;

/** INVITE server transaction: Timers G (retransmit final), H (ACK wait), I (absorb ACKs), L (accepted). */
export class InviteServerTransaction extends ServerTransactionBase<IstState> implements ServerTransaction {
  readonly kind = 'ist' as const;
  readonly #user: TransactionUser;
  readonly #hooks: TerminationHook<InviteServerTransaction>;
  /** To header of the last response (the 200 to a CANCEL reuses its tag). */
  #lastTo: string | undefined;
  #intervalG = 0;

  constructor(req: SipRequest, source: Source, dest: Destination, env: TransactionEnv, user: TransactionUser, hooks: TerminationHook<InviteServerTransaction>) {
    super('proceeding', IST_TRANSITIONS, req, source, dest, env);
    this.#user = user;
    this.#hooks = hooks;
  }

  get finalSent(): boolean {
    return this.state !== 'proceeding';
  }

  /** To header of the last response sent (CANCEL's 200 reuses its tag). */
  get lastTo(): string | undefined {
    return this.#lastTo;
  }

  respond(res: SipResponse): void {
    const st = this.state;
    if (st === 'proceeding') {
      for (const h of res.headers) if (h.name === 'to') this.#lastTo = h.value;
      this.sendResponse(serializeMessage(res));
      if (res.status >= 200) {
        // Past the final response only bytes are needed (retransmissions, Timer G).
        this.release();
        this.transition(res.status >= 300 ? 'completed' : 'accepted');
      }
    } else if (st === 'accepted' && res.status >= 200 && res.status < 300) {
      // RFC 6026 §7.1: the TU retransmits its 2xx through the transaction.
      this.env.sender.send(res, this.dest, this.onSendError);
    }
  }

  /** RFC 3261 §17.2.4: a transport error ends the transaction, and the TU is told (once). */
  protected override readonly onSendError = (): void => {
    if (this.state === 'terminated') return;
    this.terminate();
    this.#user.onServerTransportError(this);
  };

  /** A retransmission of the INVITE, or an ACK matched to this transaction. */
  receive(req: SipRequest): void {
    const st = this.state;
    if (req.method === 'ACK') {
      if (st === 'completed') this.transition('confirmed');
      else if (st === 'accepted') this.#user.onAck(req, this.source);
      return;
    }
    // INVITE retransmission (§17.2.1): resend the latest response; absorbed once accepted.
    if (st === 'proceeding' || st === 'completed') this.resend();
  }

  protected onEnter(to: IstState): void {
    const cfg = this.env.cfg;
    switch (to) {
      case 'accepted':
        this.timer(64 * cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'completed':
        if (!this.reliable) {
          this.#intervalG = cfg.t1Ms;
          this.timer(this.#intervalG, this.#timerG);
        }
        this.timer(64 * cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'confirmed':
        this.timer(this.reliable ? 0 : cfg.t4Ms, () => this.transition('terminated'));
        return;
      case 'terminated':
        this.lastBytes = undefined;
        this.#hooks.onTerminated(this);
        return;
      case 'proceeding':
        return;
      default: {
        const never: never = to;
        return never;
      }
    }
  }

  readonly #timerG = (): void => {
    if (this.state !== 'completed') return;
    this.resend();
    this.#intervalG = Math.min(2 * this.#intervalG, this.env.cfg.t2Ms);
    this.timer(this.#intervalG, this.#timerG);
  };
}
