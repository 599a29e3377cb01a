import type { Clock, Timers } from '../../../common/clock.ts';
import type { AnswerRole, CallLegControl, HangupCause, HeaderField, LegEvents, LegWire, OfferOutcome, SessionBody } from '../../../common/call-leg.ts';
import type { Random } from '../../../common/random.ts';
import type { Dialog } from '../dialog/dialog.ts';
import { parseSessionExpires, SessionTimer } from '../dialog/session-timer.ts';
import { getHeader } from '../message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';
import type { TransactionLayer } from '../transaction/transaction-layer.ts';
import { stampVia } from '../transaction/transaction-layer.ts';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../transaction/types.ts';
import type { TransportHub } from '../transport/transport-hub.ts';
import type { Destination, TransportName } from '../transport/types.ts';
import { ALLOW_VALUE } from './header-policy.ts';
import { checkMaxForwards, maxForwards } from './request-checks.ts';
import { createResponse, EMPTY_BODY } from './responses.ts';
import { Retransmitter } from './retransmitter.ts';
import { bodyOf, contentTypeOf, cseqOf, crossingOf, fieldsOf } from './sip-util.ts';
import { isSipInfoDtmfType, parseSipInfoDtmf } from './sip-info-dtmf.ts';
import type { DtmfDigit } from '../../../common/dtmf-digit.ts';

/**
 * One SIP leg of a call (RFC 3261 §12–14, RFC 3262, RFC 4028): a dialog with its transactions,
 * retransmissions, PRACKs, ACKs and session timer, seen by its call only through CallLegControl
 * and LegEvents — session descriptions, statuses and header fields, never a SIP message. The
 * caller's leg (Carillon is UAS) and the callee's (Carillon is UAC) extend it.
 */

/** What every SIP leg needs from the user agent it belongs to. */
export interface SipLegDeps {
  readonly hub: TransportHub;
  /** The transaction layer (made after the user agent, so read when needed). */
  tx(): TransactionLayer;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly random: Random;
  readonly t1Ms: number;
  readonly t2Ms: number;
  /** Session interval Carillon asks for and grants, seconds (RFC 4028). */
  readonly sessionExpiresSec: number;
  /** Smallest session interval Carillon accepts, seconds (≥ 90). */
  readonly minSeSec: number;
  /** The user agent's dialog table: a leg's dialogs are found there by Call-ID and local tag. */
  readonly dialogs: { add(key: string, leg: SipLeg): void; delete(key: string): void };
}

/** An INVITE this leg sent and whose 2xx needs an ACK from us. */
export interface OwedAck {
  readonly cseq: number;
  ack: SipRequest | undefined;
  destination: Destination | undefined;
}

const NOOP_CLIENT: ClientTransactionUser = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};

/** RFC 5057 §5.1: final responses to an in-dialog request that end the whole dialog. */
function endsDialog(status: number): boolean {
  return status === 481 || status === 408;
}

/** The events a leg sends before its call listens (none should come): dropped. */
const NO_EVENTS: LegEvents = {
  progress: () => undefined,
  answered: () => undefined,
  failed: () => undefined,
  confirmed: () => undefined,
  reoffer: (o) => o.refuse({ status: 481 }),
  request: (r) => r.respond(481, undefined, undefined, []),
  refreshed: () => undefined,
  ended: () => undefined,
};

export abstract class SipLeg implements CallLegControl {
  readonly protocol = 'sip' as const;
  readonly deps: SipLegDeps;
  readonly role: 'uas' | 'uac';
  readonly transport: TransportName;
  /** Carillon's Contact on this leg. */
  readonly contact: string;
  /**
   * The leg's SIP Call-ID: the caller's own for its leg; chosen by Carillon for a callee leg before
   * its INVITE goes out, and kept by the legs that replace it on failover (each with a fresh From
   * tag, as a forking proxy would).
   */
  readonly wireCallId: string;
  /** Where the call hears of this leg. */
  events: LegEvents = NO_EVENTS;
  dialog: Dialog | undefined;
  /** Peer advertised (or required) these (RFC 3262, RFC 4028, RFC 3311). */
  supports100rel = false;
  requires100rel = false;
  supportsTimer = false;
  allowsUpdate = false;
  /** The INVITE server transaction open on this leg (the caller's initial, or a re-INVITE). */
  inviteServer: ServerTransaction | undefined;
  /** The INVITE client transaction open on this leg. */
  inviteClient: ClientTransaction | undefined;
  /** Our 2xx to this peer waiting for its ACK (§13.3.1.4), and its CSeq. */
  readonly ackWait: Retransmitter;
  ackWaitCseq: number | undefined;
  /** ACK we owe this peer for a 2xx it sent us (sent once the other side ACKs). */
  owedAck: OwedAck | undefined;
  /** Last session description Carillon sent on this leg (refresh re-INVITEs reuse it). */
  lastSdp: Buffer | undefined;
  lastContentType: string | undefined;
  readonly sessionTimer: SessionTimer;
  /** Session interval agreed on this leg, 0 when no session timer runs. */
  sessionIntervalSec = 0;
  /** Whether Carillon refreshes this leg (else the peer does). */
  localRefresher = false;
  /** The fields of the INVITE that set this leg up (received or sent), frozen. */
  setupHeaders: readonly HeaderField[] = [];
  #closed = false;

  protected constructor(deps: SipLegDeps, role: 'uas' | 'uac', transport: TransportName, contact: string, wireCallId: string) {
    this.deps = deps;
    this.role = role;
    this.transport = transport;
    this.contact = contact;
    this.wireCallId = wireCallId;
    this.ackWait = new Retransmitter(deps.timers, deps.t1Ms, deps.t2Ms);
    this.sessionTimer = new SessionTimer(deps.timers);
  }

  wire(): LegWire {
    return { protocol: 'sip', transport: this.transport, wireCallId: this.dialog?.callId ?? this.wireCallId, remoteTarget: this.dialog?.remoteTarget, setupHeaders: this.setupHeaders };
  }

  /** Whether the peer takes reliable provisionals (RFC 3262). */
  get reliableProgress(): boolean {
    return this.supports100rel;
  }

  get secureSignaling(): boolean {
    return this.transport === 'tls';
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** An UPDATE offer on this leg without its answer yet: Carillon's (sent) or the peer's (received). */
  #updateOut = false;
  #updateIn: ServerTransaction | undefined;

  /** Whether an offer is being negotiated on this leg, either way (another now would cross it: 491). */
  get negotiating(): boolean {
    return this.inviteClient !== undefined || (this.inviteServer !== undefined && !this.inviteServer.finalSent) || this.#updateOut || (this.#updateIn !== undefined && !this.#updateIn.finalSent);
  }

  /** Whether the leg's dialog is established. */
  get confirmed(): boolean {
    return this.dialog?.state === 'confirmed';
  }

  /** Records the session description sent on this leg (refreshes reuse it). */
  protected noteSent(body: Buffer, contentType: string | undefined): void {
    if (body.length === 0) return;
    this.lastSdp = body;
    this.lastContentType = contentType;
  }

  // ---- Requests inside the dialog (the user agent found this leg by the dialog key) ----

  onRequest(tx: ServerTransaction): void {
    const req = tx.request;
    const d = this.dialog;
    const cseq = cseqOf(req);
    if (d === undefined || cseq === undefined) return this.refuse(tx, 481);
    // RFC 3261 §12.2.2: a CSeq lower than the last one seen is out of order → 500.
    if (!d.acceptRemoteSeq(cseq.seq)) return this.refuse(tx, 500, 'CSeq Out of Order', [{ name: 'retry-after', value: '1' }]);
    switch (req.method) {
      case 'BYE':
        tx.respond(createResponse(req, 200));
        this.events.ended('peer-hangup');
        return;
      case 'PRACK':
        this.onPrack(tx);
        return;
      case 'INVITE':
        // RFC 3261 §14.2: a second INVITE before the first got its final response.
        if (this.inviteServer !== undefined && !this.inviteServer.finalSent) return this.refuse(tx, 500, 'Request Pending', [{ name: 'retry-after', value: '1' }]);
        if (this.inviteClient !== undefined) return this.refuse(tx, 491);
        this.#offerFromPeer(tx);
        return;
      case 'UPDATE':
        if (checkMaxForwards(req) !== undefined) return this.refuse(tx, 483);
        // RFC 3311 §5.2: an UPDATE while the peer's last one waits for its answer → 500 with
        // Retry-After; one crossing Carillon's own UPDATE offer → 491.
        if (this.#updateIn !== undefined && !this.#updateIn.finalSent) return this.refuse(tx, 500, 'Request Pending', [{ name: 'retry-after', value: '1' }]);
        if (this.#updateOut) return this.refuse(tx, 491);
        this.#offerFromPeer(tx);
        return;
      default:
        if (checkMaxForwards(req) !== undefined) return this.refuse(tx, 483);
        this.events.request({
          method: req.method,
          body: bodyOf(req),
          dtmf: req.method === 'INFO' ? keyPressOf(req) : undefined,
          crossing: crossingOf(req),
          hopsLeft: maxForwards(req) - 1,
          respond: (status, reason, body, crossing) => this.#respondInDialog(tx, status, reason, body, crossing, false),
        });
    }
  }

  /** A re-INVITE or UPDATE from the peer: nothing answers it until the call does (the other leg's answer). */
  #offerFromPeer(tx: ServerTransaction): void {
    const req = tx.request;
    const isInvite = req.method === 'INVITE';
    if (isInvite) this.inviteServer = tx;
    else this.#updateIn = tx;
    this.events.reoffer({
      method: req.method,
      body: bodyOf(req),
      crossing: crossingOf(req),
      fields: fieldsOf(req),
      hopsLeft: maxForwards(req) - 1,
      answer: (status, reason, body, crossing) => this.#respondInDialog(tx, status, reason, body, crossing, true),
      refuse: (r) => {
        if (!tx.finalSent) tx.respond(createResponse(req, r.status, { ...(r.reason === undefined ? {} : { reason: r.reason }), headers: r.headers ?? [] }));
      },
    });
  }

  /** Answers a peer's in-dialog request with what the call got for it (the other leg's response). */
  #respondInDialog(tx: ServerTransaction, status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], offer: boolean): void {
    if (tx.finalSent) return;
    const req = tx.request;
    const headers: SipHeader[] = [];
    const ok = status >= 200 && status < 300;
    if (ok && offer) headers.push({ name: 'contact', value: this.contact }, { name: 'allow', value: ALLOW_VALUE }, { name: 'supported', value: 'timer' });
    if (ok && offer) this.sessionTimerHeaders(headers, 'uas');
    for (const h of crossing) headers.push(h);
    const bytes = body?.bytes ?? EMPTY_BODY;
    headers.push(...contentTypeOf(body));
    const out = createResponse(req, status, { ...(reason === undefined ? {} : { reason }), headers, body: bytes });
    // Only a session description is what refreshes resend (not an INFO's or MESSAGE's body).
    if (offer) this.noteSent(bytes, body?.contentType);
    tx.respond(out);
    if (ok && req.method === 'INVITE') this.awaitAck(tx, out);
  }

  /** Waits for the peer's ACK to our 2xx, resending it on UDP (§13.3.1.4); no ACK ends the leg. */
  awaitAck(st: ServerTransaction, res: SipResponse): void {
    this.ackWaitCseq = cseqOf(res)?.seq;
    this.ackWait.start(
      this.transport !== 'udp',
      () => st.respond(res),
      () => {
        this.ackWaitCseq = undefined;
        this.events.ended('ack-timeout');
      },
    );
  }

  /** An ACK for a 2xx of ours (true when it was the one awaited). */
  onAck(ack: SipRequest): boolean {
    const seq = cseqOf(ack)?.seq;
    if (seq === undefined || this.ackWaitCseq !== seq) return false;
    this.ackWait.stop();
    this.ackWaitCseq = undefined;
    this.events.confirmed(bodyOf(ack));
    return true;
  }

  protected abstract onPrack(tx: ServerTransaction): void;

  /** Answers a request with a refusal of the leg's own. */
  refuse(tx: ServerTransaction, status: number, reason?: string, headers: readonly SipHeader[] = []): void {
    tx.respond(createResponse(tx.request, status, { toTag: this.deps.random.token(10), ...(reason === undefined ? {} : { reason }), headers }));
  }

  // ---- Requests Carillon sends on this leg for the call ----

  /** The other side's new offer, sent on this dialog (re-INVITE, UPDATE); its final answer through `done`. */
  reoffer(method: string, body: SessionBody | undefined, crossing: readonly HeaderField[], hopsLeft: number, done: (o: OfferOutcome) => void): void {
    this.#send(method, body, crossing, hopsLeft, true, done);
  }

  /** Passes a request (INFO, MESSAGE, NOTIFY, REFER, OPTIONS) on to the peer; its answer through `done`. */
  relay(method: string, body: SessionBody | undefined, crossing: readonly HeaderField[], hopsLeft: number, done: (o: OfferOutcome) => void): void {
    this.#send(method, body, crossing, hopsLeft, false, done);
  }

  #send(method: string, body: SessionBody | undefined, crossing: readonly HeaderField[], hopsLeft: number, offer: boolean, done: (o: OfferOutcome) => void): void {
    const d = this.dialog;
    if (d === undefined || d.state === 'terminated' || d.remoteTag === undefined) return done({ status: 481, reason: undefined, body: undefined, crossing: [] });
    const dest = d.destination();
    if (dest === undefined) return done({ status: 502, reason: 'No Route To Peer', body: undefined, crossing: [] });
    const isInvite = method === 'INVITE';
    const headers: SipHeader[] = [];
    if (offer) {
      headers.push({ name: 'allow', value: ALLOW_VALUE }, { name: 'supported', value: 'timer' });
      this.sessionTimerHeaders(headers, 'uac');
    }
    for (const h of crossing) headers.push(h);
    headers.push(...contentTypeOf(body));
    const out = d.createRequest(method, this.contact, headers, body?.bytes ?? EMPTY_BODY);
    setMaxForwards(out, hopsLeft);
    if (offer) this.noteSent(body?.bytes ?? EMPTY_BODY, body?.contentType);
    let finished = false;
    const updating = offer && !isInvite;
    if (updating) this.#updateOut = true;
    const finish = (o: OfferOutcome): void => {
      if (finished) return;
      finished = true;
      if (isInvite) this.inviteClient = undefined;
      if (updating) this.#updateOut = false;
      done(o);
    };
    const user: ClientTransactionUser = {
      onResponse: (res) => {
        if (res.status < 200) return;
        if (isInvite && res.status < 300 && finished) return this.resendOwedAck(cseqOf(res)?.seq);
        if (isInvite && res.status < 300) this.owedAck = { cseq: cseqOf(res)?.seq ?? 0, ack: undefined, destination: undefined };
        if (offer && res.status < 300) this.learnRefresh(res);
        finish({ status: res.status, reason: res.reason, body: bodyOf(res), crossing: crossingOf(res) });
      },
      onTimeout: () => finish({ status: 408, reason: undefined, body: undefined, crossing: [], failure: 'timeout' }),
      onTransportError: () => finish({ status: 503, reason: undefined, body: undefined, crossing: [], failure: 'transport' }),
    };
    const ct = this.deps.tx().sendRequest(out, dest, user);
    if (isInvite) this.inviteClient = ct;
  }

  /** Sends the ACK this leg is owed for its 2xx, with the given body (a late offer's answer). */
  confirm(body: SessionBody | undefined): void {
    const owed = this.owedAck;
    const d = this.dialog;
    if (owed === undefined || d === undefined || owed.ack !== undefined) return;
    const headers: SipHeader[] = contentTypeOf(body);
    const ack = d.createRequest('ACK', this.contact, headers, body?.bytes ?? EMPTY_BODY, owed.cseq);
    this.noteSent(body?.bytes ?? EMPTY_BODY, body?.contentType);
    const dest = d.destination();
    if (dest === undefined) return;
    owed.ack = ack;
    owed.destination = dest;
    this.sendAck(ack, dest);
  }

  /** Resends the ACK for a retransmitted 2xx (RFC 3261 §13.2.2.4). */
  resendOwedAck(cseq: number | undefined): void {
    const owed = this.owedAck;
    if (owed === undefined || owed.ack === undefined || owed.destination === undefined || owed.cseq !== cseq) return;
    this.deps.hub.send(owed.ack, owed.destination);
  }

  /** ACK for a 2xx is its own transaction-less request with a fresh branch (§17.1.1.3). */
  sendAck(ack: SipRequest, dest: Destination): void {
    stampVia(ack, dest.transport, this.deps.hub, this.deps.random);
    this.deps.hub.send(ack, dest);
  }

  /** BYE on the established dialog (nothing answers for the call any more, so nothing waits for its answer). */
  sendBye(extra: readonly HeaderField[]): void {
    const d = this.dialog;
    if (d === undefined) return;
    const dest = d.destination();
    if (dest === undefined) return;
    this.deps.tx().sendRequest(d.createRequest('BYE', this.contact, extra), dest, NOOP_CLIENT);
  }

  abstract progress(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], reliably?: boolean): void;
  abstract answer(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], role?: AnswerRole): void;
  abstract hangup(cause: HangupCause | undefined): void;

  // ---- Session timers (RFC 4028) ----

  /**
   * Adds Session-Expires (and Require: timer when the peer supports it) for this leg: as UAS in a
   * 2xx, naming who refreshes; as UAC in a request, Carillon's requested interval.
   */
  sessionTimerHeaders(headers: SipHeader[], role: 'uas' | 'uac'): void {
    if (this.sessionIntervalSec <= 0) return;
    // The refresher is named by its role in this transaction (RFC 4028 §7.1, §9), not the leg's.
    if (role === 'uas') {
      // The peer is the UAC of this transaction: 'uac' means the peer refreshes.
      const refresher = this.localRefresher ? 'uas' : 'uac';
      headers.push({ name: 'session-expires', value: `${this.sessionIntervalSec};refresher=${refresher}` });
      if (this.supportsTimer) headers.push({ name: 'require', value: 'timer' });
    } else {
      const refresher = this.localRefresher ? 'uac' : 'uas';
      headers.push({ name: 'session-expires', value: `${this.sessionIntervalSec};refresher=${refresher}` });
      headers.push({ name: 'min-se', value: String(this.deps.minSeSec) });
    }
  }

  /** Re-reads the interval/refresher a peer's 2xx confirmed for a refresh Carillon sent. */
  learnRefresh(res: SipResponse): void {
    const se = parseSessionExpires(getHeader(res, 'session-expires'));
    if (se === undefined) return;
    this.sessionIntervalSec = se.intervalSec;
    // In this transaction Carillon was UAC toward the peer.
    if (se.refresher !== undefined) this.localRefresher = se.refresher === 'uac';
  }

  /** (Re)starts the session timer after a successful INVITE/UPDATE. */
  sessionUpdated(): void {
    if (this.sessionIntervalSec <= 0 || this.dialog?.state !== 'confirmed' || this.#closed) return;
    this.sessionTimer.start(
      this.sessionIntervalSec,
      this.localRefresher,
      () => this.#refresh(),
      () => this.events.ended('session-expired'),
    );
  }

  /** Carillon refreshes the session: UPDATE when the peer allows it, else a re-INVITE with the last SDP. */
  #refresh(): void {
    const d = this.dialog;
    if (this.#closed || d === undefined) return;
    const dest = d.destination();
    if (dest === undefined) return this.events.ended('refresh-failed');
    const useUpdate = this.allowsUpdate;
    if (!useUpdate && this.negotiating) {
      // An INVITE is already in progress on this leg; it refreshes the session itself.
      this.sessionTimer.start(this.sessionIntervalSec, true, () => this.#refresh(), () => undefined);
      return;
    }
    const headers: SipHeader[] = [{ name: 'allow', value: ALLOW_VALUE }, { name: 'supported', value: 'timer' }];
    this.sessionTimerHeaders(headers, 'uac');
    let body = EMPTY_BODY;
    if (!useUpdate && this.lastSdp !== undefined) {
      body = this.lastSdp;
      headers.push({ name: 'content-type', value: this.lastContentType ?? 'application/sdp' });
    }
    const req = d.createRequest(useUpdate ? 'UPDATE' : 'INVITE', this.contact, headers, body);
    const fail = (): void => {
      if (!useUpdate) this.inviteClient = undefined;
      this.events.ended('refresh-failed');
    };
    let ack: { readonly req: SipRequest; readonly dest: Destination } | undefined;
    const user: ClientTransactionUser = {
      onResponse: (res) => {
        if (res.status < 200 || this.#closed) return;
        // The peer resent its 2xx: the same ACK again (RFC 3261 §13.2.2.4), nothing else.
        if (ack !== undefined) {
          this.deps.hub.send(ack.req, ack.dest);
          return;
        }
        if (!useUpdate) this.inviteClient = undefined;
        if (res.status < 300) {
          if (!useUpdate) {
            ack = { req: d.createRequest('ACK', this.contact, [], EMPTY_BODY, cseqOf(res)?.seq ?? d.localSeq), dest: d.destination() ?? dest };
            this.sendAck(ack.req, ack.dest);
          }
          // The peer's answer to a refresh may move its media: the call's media learns it (nothing crosses).
          const answer = bodyOf(res);
          if (answer !== undefined) this.events.refreshed(answer);
          this.learnRefresh(res);
          this.sessionUpdated();
        } else if (endsDialog(res.status)) {
          fail();
        } else {
          this.sessionUpdated();
        }
      },
      onTimeout: fail,
      onTransportError: fail,
    };
    const ct = this.deps.tx().sendRequest(req, dest, user);
    if (!useUpdate) this.inviteClient = ct;
  }

  /** Stops every timer this leg owns and takes its dialogs out of the table. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ackWait.stop();
    this.sessionTimer.stop();
    this.inviteClient = undefined;
    this.inviteServer = undefined;
    if (this.dialog !== undefined) {
      this.deps.dialogs.delete(this.dialog.key);
      this.dialog.transition('terminated');
    }
    this.events = NO_EVENTS;
  }

}

function setMaxForwards(req: SipRequest, n: number): void {
  for (const h of req.headers) {
    if (h.name === 'max-forwards') {
      h.value = String(Math.max(0, n));
      return;
    }
  }
}

/** The key press an INFO carries (RFC 6086 INFO with a DTMF body), when it carries a readable one. */
function keyPressOf(req: SipRequest): { digit: DtmfDigit; durationMs: number } | undefined {
  const type = getHeader(req, 'content-type');
  if (!isSipInfoDtmfType(type)) return undefined;
  const r = parseSipInfoDtmf(type, req.body);
  return r.ok ? { digit: r.digit, durationMs: r.durationMs } : undefined;
}
