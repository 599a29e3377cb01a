import type { AnswerRole, HangupCause, HeaderField, SessionBody } from '../../../common/call-leg.ts';
import { Dialog } from '../dialog/dialog.ts';
import { parseMinSe, parseSessionExpires } from '../dialog/session-timer.ts';
import { getHeader, getHeaderValues } from '../message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';
import type { ServerTransaction } from '../transaction/types.ts';
import { ALLOW_VALUE } from './header-policy.ts';
import { createResponse, EMPTY_BODY } from './responses.ts';
import { Retransmitter } from './retransmitter.ts';
import { SipLeg } from './sip-leg.ts';
import type { SipLegDeps } from './sip-leg.ts';
import { bodyOf, contactUri, contentTypeOf, cseqOf, fieldsOf, fromTagOf, hasToken, reasonFields, stripTag } from './sip-util.ts';

/**
 * The caller's leg: Carillon is the UAS of the INVITE that started the call (RFC 3261 §13.3).
 * It answers that INVITE as the call tells it — provisionals (reliably, RFC 3262, when the caller
 * supports it), then one final answer — and waits for the ACK of a 2xx.
 */
export class SipCallerLeg extends SipLeg {
  /** The caller's INVITE transaction. */
  readonly invite: ServerTransaction;
  /** RSeq of the last reliable provisional sent (RFC 3262 §7.1). */
  rseq = 0;
  /** Reliable provisional waiting for PRACK, and whether it carried a session description. */
  readonly prackWait: Retransmitter;
  prackWaitRseq: number | undefined;
  prackWaitHasSdp = false;
  /** A 2xx held back until the PRACK comes (RFC 3262 §3). */
  #afterPrack: (() => void) | undefined;
  /** The final status the caller got, once it has one. */
  finalStatus: number | undefined;
  /** Told once, when the caller has its final answer or the leg closes (the user agent forgets the INVITE then). */
  onFinal: (() => void) | undefined;

  /** The caller's leg from its INVITE: an early dialog (our tag, its flow), what it supports, its session timer. */
  constructor(deps: SipLegDeps, tx: ServerTransaction, contact: string) {
    const req = tx.request;
    const src = tx.source;
    const callId = getHeader(req, 'call-id') ?? '';
    super(deps, 'uas', src.transport, contact, callId);
    this.invite = tx;
    this.inviteServer = tx;
    this.prackWait = new Retransmitter(deps.timers, deps.t1Ms, deps.t2Ms);
    const remoteTag = fromTagOf(req);
    this.dialog = new Dialog({
      callId,
      localTag: deps.random.token(10),
      ...(remoteTag === undefined ? {} : { remoteTag }),
      localUri: stripTag(getHeader(req, 'to') ?? ''),
      remoteUri: stripTag(getHeader(req, 'from') ?? ''),
      localSeq: 0,
      remoteSeq: cseqOf(req)?.seq ?? 0,
      remoteTarget: contactUri(req) ?? '',
      routeSet: getHeaderValues(req, 'record-route'),
      flow: src.connectionId === undefined ? { transport: src.transport, address: src.address, port: src.port } : { transport: src.transport, address: src.address, port: src.port, connectionId: src.connectionId },
      state: 'early',
    });
    deps.dialogs.add(this.dialog.key, this);
    this.supports100rel = hasToken(req, 'supported', '100rel') || hasToken(req, 'require', '100rel');
    this.requires100rel = hasToken(req, 'require', '100rel');
    this.supportsTimer = hasToken(req, 'supported', 'timer') || hasToken(req, 'require', 'timer');
    this.allowsUpdate = hasToken(req, 'allow', 'update');
    this.#decideSessionTimer(req);
    this.setupHeaders = fieldsOf(req);
  }

  /** The caller's offer (the INVITE's body), or none for a late offer. */
  get offer(): SessionBody | undefined {
    return bodyOf(this.invite.request);
  }

  /** Whether the caller has its final answer. */
  get answered(): boolean {
    return this.invite.finalSent;
  }

  /** RFC 4028 §9 as UAS: the interval and refresher for the caller's leg. */
  #decideSessionTimer(req: SipRequest): void {
    const se = parseSessionExpires(getHeader(req, 'session-expires'));
    const theirMin = parseMinSe(getHeader(req, 'min-se')) ?? 0;
    const floor = Math.max(this.deps.minSeSec, theirMin);
    let interval = se === undefined ? this.deps.sessionExpiresSec : Math.min(se.intervalSec, this.deps.sessionExpiresSec);
    if (interval < floor) interval = floor;
    this.sessionIntervalSec = interval;
    const refresher = se?.refresher ?? (this.supportsTimer ? 'uac' : 'uas');
    this.localRefresher = refresher === 'uas';
  }

  /** A provisional to the caller, reliable when it asked for that (RFC 3262). */
  progress(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], reliably = false): void {
    const st = this.invite;
    const d = this.dialog;
    if (st.finalSent || d === undefined || this.closed) return;
    const headers: SipHeader[] = [{ name: 'contact', value: this.contact }, { name: 'allow', value: ALLOW_VALUE }];
    for (const h of crossing) headers.push(h);
    headers.push(...contentTypeOf(body));
    const bytes = body?.bytes ?? EMPTY_BODY;
    const reliable = this.supports100rel && !this.prackWait.active && (this.requires100rel || reliably || bytes.length > 0);
    if (reliable) {
      this.rseq += 1;
      headers.push({ name: 'require', value: '100rel' }, { name: 'rseq', value: String(this.rseq) });
    }
    const out = createResponse(st.request, status, { toTag: d.localTag, ...(reason === undefined ? {} : { reason }), headers, body: bytes, copyRecordRoute: true });
    this.noteSent(bytes, body?.contentType);
    st.respond(out);
    if (!reliable) return;
    this.prackWaitRseq = this.rseq;
    this.prackWaitHasSdp = bytes.length > 0;
    this.prackWait.start(
      this.transport !== 'udp',
      () => {
        if (!st.finalSent) st.respond(out);
      },
      () => {
        // No PRACK came: stop waiting, and let a 2xx held back for it go.
        this.prackWaitRseq = undefined;
        this.#runAfterPrack();
      },
    );
  }

  /**
   * The caller's final answer. A refusal (≥ 300) ends the INVITE; a 2xx — held back while a
   * reliable provisional with a session description waits for its PRACK (RFC 3262 §3) — confirms
   * the dialog and waits for the ACK (§13.3.1.4).
   */
  answer(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], role: AnswerRole = 'call'): void {
    const st = this.invite;
    const d = this.dialog;
    if (st.finalSent || d === undefined || this.closed) return;
    if (status >= 300) {
      const headers: SipHeader[] = [...crossing];
      this.#final(createResponse(st.request, status, { toTag: d.localTag, ...(reason === undefined ? {} : { reason }), headers }));
      return;
    }
    if (this.prackWaitRseq !== undefined && this.prackWaitHasSdp) {
      this.#afterPrack = () => this.answer(status, reason, body, crossing, role);
      return;
    }
    const headers: SipHeader[] = [
      // RFC 7866 §6.1.1: a recording server says so in its Contact.
      { name: 'contact', value: role === 'recording-server' ? `${this.contact};+sip.srs` : this.contact },
      { name: 'allow', value: ALLOW_VALUE },
      { name: 'supported', value: 'timer, 100rel' },
    ];
    this.sessionTimerHeaders(headers, 'uas');
    for (const h of crossing) headers.push(h);
    headers.push(...contentTypeOf(body));
    const bytes = body?.bytes ?? EMPTY_BODY;
    this.noteSent(bytes, body?.contentType);
    const out = createResponse(st.request, status, { toTag: d.localTag, ...(reason === undefined ? {} : { reason }), headers, body: bytes, copyRecordRoute: true });
    this.prackWait.stop();
    this.prackWaitRseq = undefined;
    this.#final(out);
    d.transition('confirmed');
    this.awaitAck(st, out);
  }

  #final(res: SipResponse): void {
    this.invite.respond(res);
    this.finalStatus = res.status;
    this.#forget();
  }

  #forget(): void {
    const f = this.onFinal;
    this.onFinal = undefined;
    f?.();
  }

  protected onPrack(tx: ServerTransaction): void {
    const rack = getHeader(tx.request, 'rack');
    const rseq = rack === undefined ? NaN : Number(rack.trim().split(/\s+/)[0]);
    // RFC 3262 §3: a PRACK that matches no unacknowledged reliable provisional → 481.
    if (this.prackWaitRseq === undefined || rseq !== this.prackWaitRseq) return this.refuse(tx, 481);
    this.prackWait.stop();
    this.prackWaitRseq = undefined;
    tx.respond(createResponse(tx.request, 200));
    this.#runAfterPrack();
  }

  #runAfterPrack(): void {
    const next = this.#afterPrack;
    this.#afterPrack = undefined;
    next?.();
  }

  /** BYE once established; an unanswered caller is answered by the call before it hangs up (500 otherwise). */
  hangup(cause: HangupCause | undefined): void {
    if (this.closed) return;
    if (!this.invite.finalSent && this.dialog !== undefined) this.answer(500, undefined, undefined, []);
    else if (this.dialog?.state === 'confirmed') this.sendBye(reasonFields(cause));
  }

  override close(): void {
    this.prackWait.stop();
    this.#afterPrack = undefined;
    this.#forget();
    super.close();
  }
}
