import type { Timers } from '../../../common/clock.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, SipSender, Source } from '../transport/types.ts';
import { isReliable } from '../transport/types.ts';
import { serializeMessage } from '../message/serialize.ts';
import { releasedRequest, TransactionBase } from './transaction-base.ts';
import type { IstState, ServerTransaction, TransactionTimerConfig, TransactionUser } from './types.ts';

/** RFC 3261 §17.2.1 with RFC 6026 (Accepted state). */
export const IST_TRANSITIONS = {
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
} as const satisfies Record<IstState, readonly IstState[]>;

export interface IstHooks {
  onTerminated(tx: InviteServerTransaction): void;
}

/** INVITE server transaction: Timers G (retransmit final), H (ACK wait), I (absorb ACKs), L (accepted). */
export class InviteServerTransaction extends TransactionBase<IstState> implements ServerTransaction {
  readonly kind = 'ist' as const;
  #request: SipRequest;
  readonly source: Source;
  readonly #dest: Destination;
  readonly #sender: SipSender;
  readonly #cfg: TransactionTimerConfig;
  readonly #user: TransactionUser;
  readonly #hooks: IstHooks;
  readonly #reliable: boolean;
  #lastBytes: Buffer | undefined;
  /** To header of the last response (the 200 to a CANCEL reuses its tag). */
  #lastTo: string | undefined;
  #intervalG = 0;

  constructor(req: SipRequest, source: Source, dest: Destination, sender: SipSender, timers: Timers, cfg: TransactionTimerConfig, user: TransactionUser, hooks: IstHooks) {
    super('proceeding', IST_TRANSITIONS, timers);
    this.#request = req;
    this.source = source;
    this.#dest = dest;
    this.#sender = sender;
    this.#cfg = cfg;
    this.#user = user;
    this.#hooks = hooks;
    this.#reliable = isReliable(source.transport);
  }

  get request(): SipRequest {
    return this.#request;
  }

  get finalSent(): boolean {
    const st = this.state;
    return st !== 'proceeding';
  }

  /** To header of the last response sent (CANCEL's 200 reuses its tag). */
  get lastTo(): string | undefined {
    return this.#lastTo;
  }

  respond(res: SipResponse): void {
    const st = this.state;
    if (st === 'proceeding') {
      this.#lastBytes = serializeMessage(res);
      for (const h of res.headers) if (h.name === 'to') this.#lastTo = h.value;
      this.#send(this.#lastBytes);
      if (res.status >= 200) {
        // Past the final response only bytes are needed (retransmissions, Timer G).
        this.#request = releasedRequest(this.#request.method);
        this.transition(res.status >= 300 ? 'completed' : 'accepted');
      }
    } else if (st === 'accepted' && res.status >= 200 && res.status < 300) {
      // RFC 6026 §7.1: the TU retransmits its 2xx through the transaction.
      this.#sender.send(res, this.#dest, this.#onSendError);
    }
  }

  #send(bytes: Buffer): void {
    this.#sender.sendRaw(bytes, this.#dest, this.#onSendError);
  }

  readonly #onSendError = (): void => {
    if (this.state !== 'terminated') this.transition('terminated');
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
    if ((st === 'proceeding' || st === 'completed') && this.#lastBytes !== undefined) this.#send(this.#lastBytes);
  }

  protected onEnter(to: IstState): void {
    switch (to) {
      case 'accepted':
        this.timer(64 * this.#cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'completed':
        if (!this.#reliable) {
          this.#intervalG = this.#cfg.t1Ms;
          this.timer(this.#intervalG, this.#timerG);
        }
        this.timer(64 * this.#cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'confirmed':
        this.timer(this.#reliable ? 0 : this.#cfg.t4Ms, () => this.transition('terminated'));
        return;
      case 'terminated':
        this.#lastBytes = undefined;
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
    if (this.state !== 'completed' || this.#lastBytes === undefined) return;
    this.#send(this.#lastBytes);
    this.#intervalG = Math.min(2 * this.#intervalG, this.#cfg.t2Ms);
    this.timer(this.#intervalG, this.#timerG);
  };

  terminate(): void {
    if (this.state !== 'terminated') this.transition('terminated');
  }
}
