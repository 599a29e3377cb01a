import { serializeMessage } from '../message/serialize.ts';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, SendFailure } from '../transport/types.ts';
import { ClientTransactionBase } from './transaction-base.ts';
import type { TerminationHook, TransactionEnv } from './transaction-base.ts';
import type { ClientTransaction, ClientTransactionUser, IctState } from './types.ts';

/** RFC 3261 §17.1.1 with RFC 6026 (Accepted state). */
export const ICT_TRANSITIONS = {
  calling: ['proceeding', 'accepted', 'completed', 'terminated'],
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['terminated'],
  terminated: [],
} as const satisfies Record<IctState, readonly IctState[]>;

/** Timer C (RFC 3261 §16.6): an INVITE left ringing this long is given up (> 3 min). */
export const TIMER_C_MS = 181_000;

/** INVITE client transaction: Timers A (retransmit), B (timeout), C (ringing), D (absorb), M (accepted). */
export class InviteClientTransaction extends ClientTransactionBase<IctState> implements ClientTransaction {
  readonly kind = 'ict' as const;
  readonly #hooks: TerminationHook<InviteClientTransaction>;
  #ackBytes: Buffer | undefined;
  #intervalA = 0;
  /** Whether a provisional response arrived (CANCEL may be sent only after one, §9.1). */
  provisionalSeen = false;
  /** A CANCEL waiting for the first provisional response. */
  pendingCancel: (() => void) | undefined;

  constructor(req: SipRequest, dest: Destination, branch: string, env: TransactionEnv, user: ClientTransactionUser, hooks: TerminationHook<InviteClientTransaction>) {
    super('calling', ICT_TRANSITIONS, req, dest, branch, env, user);
    this.#hooks = hooks;
  }

  /** Sends the INVITE and starts Timers A and B. */
  start(): void {
    this.sendFirst();
    if (!this.reliable) {
      this.#intervalA = this.env.cfg.t1Ms;
      this.timer(this.#intervalA, this.#timerA);
    }
    this.timer(64 * this.env.cfg.t1Ms, this.#timerB);
  }

  readonly #timerA = (): void => {
    if (this.state !== 'calling') return;
    this.sendBytes(this.requestBytes);
    this.#intervalA *= 2;
    this.timer(this.#intervalA, this.#timerA);
  };

  readonly #timerB = (): void => {
    if (this.state !== 'calling') return;
    this.transition('terminated');
    this.user.onTimeout(this);
  };

  protected readonly onSendError = (f: SendFailure): void => {
    if (this.state === 'terminated') return;
    const wasFinal = this.state === 'completed' || this.state === 'accepted';
    this.transition('terminated');
    if (!wasFinal) this.user.onTransportError(this, f);
  };

  receive(res: SipResponse): void {
    const st = this.state;
    const status = res.status;
    switch (st) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          this.provisionalSeen = true;
          if (st === 'calling') this.transition('proceeding');
          const cancel = this.pendingCancel;
          this.pendingCancel = undefined;
          cancel?.();
          this.user.onResponse(res, this);
        } else if (status < 300) {
          this.pendingCancel = undefined;
          this.transition('accepted');
          this.user.onResponse(res, this);
          this.release();
        } else {
          this.pendingCancel = undefined;
          this.#ackBytes = serializeMessage(buildAckForFailure(this.request, res));
          this.sendBytes(this.#ackBytes);
          this.transition('completed');
          this.user.onResponse(res, this);
          this.release();
        }
        return;
      case 'accepted':
        // RFC 6026 §8.4: 2xx retransmissions go to the TU, which ACKs them itself.
        if (status >= 200 && status < 300) this.user.onResponse(res, this);
        return;
      case 'completed':
        // Retransmitted final: resend the ACK (§17.1.1.2).
        if (status >= 300) this.sendBytes(this.#ackBytes);
        return;
      case 'terminated':
        return;
      default: {
        const never: never = st;
        return never;
      }
    }
  }

  protected onEnter(to: IctState): void {
    switch (to) {
      case 'proceeding':
        this.timer(TIMER_C_MS, () => {
          if (this.state !== 'proceeding') return;
          this.transition('terminated');
          this.user.onTimeout(this);
        });
        return;
      case 'accepted':
        this.timer(64 * this.env.cfg.t1Ms, () => this.transition('terminated'));
        return;
      case 'completed':
        this.timer(this.reliable ? 0 : this.env.cfg.timerDMs, () => this.transition('terminated'));
        return;
      case 'terminated':
        this.pendingCancel = undefined;
        this.#ackBytes = undefined;
        this.#hooks.onTerminated(this);
        return;
      case 'calling':
        return;
      default: {
        const never: never = to;
        return never;
      }
    }
  }
}

/**
 * A request that rides on an INVITE's transaction identity (RFC 3261 §9.1 CANCEL, §17.1.1.3 ACK
 * for a non-2xx): the INVITE's Request-URI, single top Via, Route set, Call-ID, From, Max-Forwards
 * and CSeq number, with `method`; To is the INVITE's unless `to` is given.
 */
export function requestOnInvite(invite: SipRequest, method: 'ACK' | 'CANCEL', to?: string, extra: readonly SipHeader[] = []): SipRequest {
  const headers: SipHeader[] = [];
  let viaDone = false;
  for (const h of invite.headers) {
    switch (h.name) {
      case 'via':
        if (!viaDone) {
          const comma = h.value.indexOf(',');
          headers.push({ name: 'via', value: comma < 0 ? h.value : h.value.slice(0, comma).trim() });
          viaDone = true;
        }
        break;
      case 'route':
      case 'call-id':
      case 'from':
      case 'max-forwards':
        headers.push({ name: h.name, value: h.value });
        break;
      case 'to':
        headers.push({ name: 'to', value: to ?? h.value });
        break;
      case 'cseq':
        headers.push({ name: 'cseq', value: `${h.value.trim().split(/\s+/)[0] ?? '1'} ${method}` });
        break;
      default:
        break;
    }
  }
  for (const h of extra) headers.push(h);
  return { kind: 'request', method, uri: invite.uri, headers, body: Buffer.alloc(0) };
}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final carries the response's To (with its tag). */
export function buildAckForFailure(invite: SipRequest, res: SipResponse): SipRequest {
  let to: string | undefined;
  for (const r of res.headers) if (r.name === 'to') to = r.value;
  return requestOnInvite(invite, 'ACK', to);
}
