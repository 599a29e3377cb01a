import { getHeader, getHeaderValues } from '../sip/message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message/types.ts';
import { stampVia } from '../sip/transaction/transaction-layer.ts';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../sip/transaction/types.ts';
import type { Destination } from '../sip/transport/types.ts';
import { createResponse, EMPTY_BODY } from '../sip/ua/responses.ts';
import type { B2bua } from './b2bua.ts';
import { Dialog, dialogKey } from '../sip/dialog/dialog.ts';
import type { Call, EndReason, Leg } from './call.ts';
import { ALLOW_VALUE, copyCrossingHeaders } from '../sip/ua/header-policy.ts';
import { checkMaxForwards, maxForwards } from '../sip/ua/request-checks.ts';
import { parseSessionExpires } from '../sip/dialog/session-timer.ts';
import { cseqOf, contactUri, setupFieldsOf, toTagOf } from './sip-util.ts';
import { runAfterPrack } from './leg-setup.ts';

const NOOP_CLIENT: ClientTransactionUser = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};

/** RFC 5057 §5.1: final responses to an in-dialog request that end the whole dialog. */
function endsDialog(status: number): boolean {
  return status === 481 || status === 408;
}

/**
 * Everything that happens inside an established call: in-dialog requests relayed leg to leg
 * (re-INVITE, UPDATE, INFO, …), BYE, ACK for 2xx, PRACK, and session refreshes Carillon sends
 * itself (RFC 4028).
 */
export class InDialog {
  readonly #b2b: B2bua;

  constructor(b2b: B2bua) {
    this.#b2b = b2b;
  }

  onRequest(tx: ServerTransaction, toTag: string): void {
    const req = tx.request;
    const b2b = this.#b2b;
    const callId = getHeader(req, 'call-id') ?? '';
    const entry = b2b.dialogs.get(dialogKey(callId, toTag));
    if (entry === undefined) return b2b.refuse(tx, { status: 481 });
    const { call, leg } = entry;
    const d = leg.dialog;
    const cseq = cseqOf(req);
    if (d === undefined || cseq === undefined) return b2b.refuse(tx, { status: 481 });
    // RFC 3261 §12.2.2: a CSeq lower than the last one seen is out of order → 500.
    if (!d.acceptRemoteSeq(cseq.seq)) return b2b.refuse(tx, { status: 500, reason: 'CSeq Out of Order', headers: [{ name: 'retry-after', value: '1' }] });
    switch (req.method) {
      case 'BYE':
        tx.respond(createResponse(req, 200));
        b2b.endCall(call, leg === call.a ? 'caller-bye' : 'callee-bye', 487, undefined, [], leg);
        return;
      case 'PRACK':
        this.#onPrack(tx, leg);
        return;
      case 'INVITE': {
        if (leg.inviteServer !== undefined && !leg.inviteServer.finalSent) {
          // RFC 3261 §14.2: a second INVITE before the first got its final response.
          return b2b.refuse(tx, { status: 500, reason: 'Request Pending', headers: [{ name: 'retry-after', value: '1' }] });
        }
        // An INVITE crossing one of ours on either leg (glare), or before the call is confirmed → 491.
        const otherServer = call.other(leg).inviteServer;
        if (call.state !== 'confirmed' || leg.inviteClient !== undefined || call.other(leg).inviteClient !== undefined || (otherServer !== undefined && !otherServer.finalSent)) {
          return b2b.refuse(tx, { status: 491 });
        }
        this.#relay(call, leg, tx);
        return;
      }
      default:
        if (checkMaxForwards(req) !== undefined) return b2b.refuse(tx, { status: 483 });
        this.#relay(call, leg, tx);
        return;
    }
  }

  /** Relays an in-dialog request from `from` to the other leg, its body through media anchoring. */
  #relay(call: Call, from: Leg, tx: ServerTransaction): void {
    const req = tx.request;
    if (req.method === 'INVITE') from.inviteServer = tx;
    const role = req.method === 'INVITE' || req.method === 'UPDATE' ? 'offer' : 'answer';
    if (role === 'offer') this.#b2b.opts.events?.emit({ type: 'updated', call: call.summary(), method: req.method, headers: setupFieldsOf(req) });
    this.#b2b.viaMedia(call, sideOf(call, from), req, role, (body) => this.#relayWith(call, from, tx, body), (status, reason) => {
      if (!tx.finalSent) tx.respond(createResponse(req, status, { reason }));
    });
  }

  #relayWith(call: Call, from: Leg, tx: ServerTransaction, body: Buffer): void {
    const b2b = this.#b2b;
    const req = tx.request;
    const to = call.other(from);
    const toDialog = to.dialog;
    if (toDialog === undefined || toDialog.state === 'terminated' || toDialog.remoteTag === undefined) return b2b.refuse(tx, { status: 481 });
    const dest = toDialog.destination();
    if (dest === undefined) return b2b.refuse(tx, { status: 502, reason: 'No Route To Peer' });
    const headers: SipHeader[] = [];
    const isInvite = req.method === 'INVITE';
    if (isInvite || req.method === 'UPDATE') {
      headers.push({ name: 'allow', value: ALLOW_VALUE }, { name: 'supported', value: 'timer' });
      this.sessionTimerHeaders(to, headers, 'uac');
    }
    copyCrossingHeaders(req, headers);
    const out = toDialog.createRequest(req.method, to.contact, headers, body);
    setMaxForwards(out, maxForwards(req) - 1);
    if (body.length > 0) {
      to.lastSdp = body;
      to.lastContentType = getHeader(req, 'content-type');
    }
    if (isInvite) from.inviteServer = tx;
    const user: ClientTransactionUser = {
      onResponse: (res) => this.#onRelayedResponse(call, from, to, tx, res, isInvite),
      onTimeout: () => {
        if (!tx.finalSent) tx.respond(createResponse(req, 408));
        if (isInvite) to.inviteClient = undefined;
        b2b.endCall(call, 'timeout');
      },
      onTransportError: () => {
        if (!tx.finalSent) tx.respond(createResponse(req, 503));
        if (isInvite) to.inviteClient = undefined;
        b2b.endCall(call, 'transport-error');
      },
    };
    const ct = b2b.tx.sendRequest(out, dest, user);
    if (isInvite) to.inviteClient = ct;
  }

  #onRelayedResponse(call: Call, from: Leg, to: Leg, tx: ServerTransaction, res: SipResponse, isInvite: boolean): void {
    const status = res.status;
    if (status === 100) return;
    if (call.ended) return;
    if (isInvite && status >= 200 && status < 300 && tx.finalSent) {
      // 2xx retransmission from the peer: resend our ACK if we already sent it.
      this.resendOwedAck(to, cseqOf(res)?.seq);
      return;
    }
    if (status >= 200 && isInvite) to.inviteClient = undefined;
    const offered = tx.request.body.length > 0;
    this.#b2b.viaMedia(call, sideOf(call, to), res, offered ? 'answer' : 'offer', (body) => this.#respondWith(call, from, to, tx, res, isInvite, body));
  }

  #respondWith(call: Call, from: Leg, to: Leg, tx: ServerTransaction, res: SipResponse, isInvite: boolean, body: Buffer): void {
    const status = res.status;
    if (tx.finalSent) return;
    const headers: SipHeader[] = [];
    const ok = status >= 200 && status < 300;
    if (ok && (isInvite || tx.request.method === 'UPDATE')) {
      headers.push({ name: 'contact', value: from.contact }, { name: 'allow', value: ALLOW_VALUE }, { name: 'supported', value: 'timer' });
      this.#learnRefresh(to, res);
      this.sessionTimerHeaders(from, headers, 'uas');
    }
    copyCrossingHeaders(res, headers);
    const out = createResponse(tx.request, status, { reason: res.reason, headers, body });
    if (body.length > 0) {
      from.lastSdp = body;
      from.lastContentType = getHeader(res, 'content-type');
    }
    tx.respond(out);
    if (ok && isInvite) {
      to.owedAck = { cseq: cseqOf(res)?.seq ?? 0, ack: undefined, destination: undefined };
      this.awaitAck(call, from, tx, out);
    }
    if (ok && (isInvite || tx.request.method === 'UPDATE')) this.startSessionTimers(call);
    if (status >= 200 && endsDialog(status)) this.#b2b.endCall(call, status === 408 ? 'timeout' : 'callee-bye');
  }

  /** Waits for the peer's ACK to our 2xx on `leg`, retransmitting on UDP (§13.3.1.4). */
  awaitAck(call: Call, leg: Leg, st: ServerTransaction, res: SipResponse): void {
    leg.ackWaitCseq = cseqOf(res)?.seq;
    leg.ackWait.start(
      leg.transport !== 'udp',
      () => st.respond(res),
      () => {
        leg.ackWaitCseq = undefined;
        this.#b2b.endCall(call, 'ack-timeout');
      },
    );
  }

  /** An ACK for a 2xx: stop retransmitting and pass the ACK on to the other leg. */
  onAck(ack: SipRequest): void {
    const b2b = this.#b2b;
    const toTag = toTagOfAck(ack);
    if (toTag === undefined) return;
    const entry = b2b.dialogs.get(dialogKey(getHeader(ack, 'call-id') ?? '', toTag));
    if (entry === undefined) return;
    const { call, leg } = entry;
    const seq = cseqOf(ack)?.seq;
    if (seq === undefined || leg.ackWaitCseq !== seq) return;
    leg.ackWait.stop();
    leg.ackWaitCseq = undefined;
    const other = call.other(leg);
    if (ack.body.length === 0) this.sendOwedAck(other, ack.body, undefined);
    else b2b.viaMedia(call, sideOf(call, leg), ack, 'answer', (body) => this.sendOwedAck(other, body, getHeader(ack, 'content-type')));
    if (call.state === 'answered') {
      call.transition('confirmed');
      this.startSessionTimers(call);
    }
  }

  /** Sends the ACK this leg is owed for its 2xx, with the given body (late offer answer). */
  sendOwedAck(leg: Leg, body: Buffer, contentType: string | undefined): void {
    const owed = leg.owedAck;
    const d = leg.dialog;
    if (owed === undefined || d === undefined || owed.ack !== undefined) return;
    const headers: SipHeader[] = contentType !== undefined && body.length > 0 ? [{ name: 'content-type', value: contentType }] : [];
    const ack = d.createRequest('ACK', leg.contact, headers, body, owed.cseq);
    if (body.length > 0) {
      leg.lastSdp = body;
      leg.lastContentType = contentType;
    }
    const dest = d.destination();
    if (dest === undefined) return;
    owed.ack = ack;
    owed.destination = dest;
    this.sendAck(ack, dest);
  }

  /** Resends the ACK for a retransmitted 2xx (RFC 3261 §13.2.2.4). */
  resendOwedAck(leg: Leg, cseq: number | undefined): void {
    const owed = leg.owedAck;
    if (owed === undefined || owed.ack === undefined || owed.destination === undefined || owed.cseq !== cseq) return;
    this.#b2b.opts.hub.send(owed.ack, owed.destination);
  }

  /** ACK for a 2xx is its own transaction-less request with a fresh branch (§17.1.1.3). */
  sendAck(ack: SipRequest, dest: Destination): void {
    const b2b = this.#b2b;
    stampVia(ack, dest.transport, b2b.opts.hub, b2b.opts.random);
    b2b.opts.hub.send(ack, dest);
  }

  sendBye(leg: Leg, extra: readonly SipHeader[]): void {
    const d = leg.dialog;
    if (d === undefined) return;
    const dest = d.destination();
    if (dest === undefined) return;
    const bye = d.createRequest('BYE', leg.contact, extra);
    this.#b2b.tx.sendRequest(bye, dest, NOOP_CLIENT);
  }

  /** The callee sent a reliable provisional (RFC 3262 §4): PRACK it on the callee's leg. */
  prackCallee(call: Call, res: SipResponse): void {
    const b = call.b;
    const d = b.dialog;
    const rseq = getHeader(res, 'rseq');
    const cseq = cseqOf(res);
    if (d === undefined || rseq === undefined || cseq === undefined || !/^\d+$/.test(rseq.trim())) return;
    const dest = d.destination();
    if (dest === undefined) return;
    const prack = d.createRequest('PRACK', b.contact, [{ name: 'rack', value: `${rseq.trim()} ${cseq.seq} ${cseq.method}` }]);
    this.#b2b.tx.sendRequest(prack, dest, NOOP_CLIENT);
  }

  #onPrack(tx: ServerTransaction, leg: Leg): void {
    const rack = getHeader(tx.request, 'rack');
    const rseq = rack === undefined ? NaN : Number(rack.trim().split(/\s+/)[0]);
    if (leg.prackWaitRseq === undefined || rseq !== leg.prackWaitRseq) {
      // RFC 3262 §3: a PRACK that matches no unacknowledged reliable provisional → 481.
      return this.#b2b.refuse(tx, { status: 481 });
    }
    leg.prackWait.stop();
    leg.prackWaitRseq = undefined;
    tx.respond(createResponse(tx.request, 200));
    runAfterPrack(leg);
  }

  /** ACKs a 2xx nobody wants any more and hangs it up. */
  ackAndByeStray(d: Dialog, res: SipResponse, dest: Destination, ct: ClientTransaction): void {
    const b2b = this.#b2b;
    const tag = toTagOf(res);
    if (tag === undefined) return;
    const stray = new Dialog({
      callId: d.callId,
      localTag: d.localTag,
      remoteTag: tag,
      localUri: d.localUri,
      remoteUri: d.remoteUri,
      localSeq: cseqOf(res)?.seq ?? d.localSeq,
      remoteTarget: contactUri(res) ?? ct.request.uri,
      routeSet: getHeaderValues(res, 'record-route').reverse(),
      flow: d.flow.address === undefined ? { transport: dest.transport } : d.flow,
      state: 'confirmed',
    });
    const contact = b2b.contactFor(dest.transport) ?? '';
    const ack = stray.createRequest('ACK', contact, [], EMPTY_BODY);
    const target = stray.destination() ?? dest;
    this.sendAck(ack, target);
    const bye = stray.createRequest('BYE', contact, []);
    b2b.tx.sendRequest(bye, target, NOOP_CLIENT);
  }

  // ---- Session timers (RFC 4028) ----

  /** A 2xx for `leg`'s peer carrying the other side's answer and this leg's session timer. */
  build2xx(leg: Leg, req: SipRequest, res: SipResponse, body: Buffer): SipResponse {
    const d = leg.dialog as Dialog;
    const headers: SipHeader[] = [
      { name: 'contact', value: leg.contact },
      { name: 'allow', value: ALLOW_VALUE },
      { name: 'supported', value: 'timer, 100rel' },
    ];
    this.sessionTimerHeaders(leg, headers, 'uas');
    copyCrossingHeaders(res, headers);
    if (body.length > 0) {
      leg.lastSdp = body;
      leg.lastContentType = getHeader(res, 'content-type');
    }
    return createResponse(req, res.status, { toTag: d.localTag, reason: res.reason, headers, body, copyRecordRoute: true });
  }

  /**
   * Adds Session-Expires (and Require: timer when the peer supports it) for `leg`: as UAS in a
   * 2xx, naming who refreshes; as UAC in a request, Carillon's requested interval.
   */
  sessionTimerHeaders(leg: Leg, headers: SipHeader[], role: 'uas' | 'uac'): void {
    if (leg.sessionIntervalSec <= 0) return;
    if (role === 'uas') {
      // The peer is the UAC of this transaction: 'uac' means the peer refreshes.
      const refresher = leg.localRefresher === (leg.role === 'uas') ? 'uas' : 'uac';
      headers.push({ name: 'session-expires', value: `${leg.sessionIntervalSec};refresher=${refresher}` });
      if (leg.supportsTimer) headers.push({ name: 'require', value: 'timer' });
    } else {
      const refresher = leg.localRefresher === (leg.role === 'uac') ? 'uac' : 'uas';
      headers.push({ name: 'session-expires', value: `${leg.sessionIntervalSec};refresher=${refresher}` });
      headers.push({ name: 'min-se', value: String(this.#b2b.opts.minSeSec) });
    }
  }

  /** Re-reads the interval/refresher a peer's 2xx confirmed for a refresh Carillon relayed. */
  #learnRefresh(leg: Leg, res: SipResponse): void {
    const se = parseSessionExpires(getHeader(res, 'session-expires'));
    if (se === undefined) return;
    leg.sessionIntervalSec = se.intervalSec;
    if (se.refresher !== undefined) {
      // In this transaction Carillon was UAC toward `leg`.
      leg.localRefresher = se.refresher === 'uac';
    }
  }

  /** (Re)starts both legs' session timers after a successful INVITE/UPDATE. */
  startSessionTimers(call: Call): void {
    for (const leg of [call.a, call.b]) {
      if (leg.sessionIntervalSec <= 0 || leg.dialog?.state !== 'confirmed') continue;
      leg.sessionTimer.start(
        leg.sessionIntervalSec,
        leg.localRefresher,
        () => this.#refresh(call, leg),
        () => this.#b2b.endCall(call, 'session-expired'),
      );
    }
  }

  /** Carillon refreshes `leg`: UPDATE when the peer allows it, else a re-INVITE with the last SDP. */
  #refresh(call: Call, leg: Leg): void {
    const b2b = this.#b2b;
    const d = leg.dialog;
    if (call.ended || d === undefined) return;
    const dest = d.destination();
    if (dest === undefined) return b2b.endCall(call, 'refresh-failed');
    const useUpdate = leg.allowsUpdate;
    if (!useUpdate && (leg.inviteClient !== undefined || (leg.inviteServer !== undefined && !leg.inviteServer.finalSent))) {
      // An INVITE is already in progress on this leg; it refreshes the session itself.
      leg.sessionTimer.start(leg.sessionIntervalSec, true, () => this.#refresh(call, leg), () => undefined);
      return;
    }
    const headers: SipHeader[] = [{ name: 'allow', value: ALLOW_VALUE }, { name: 'supported', value: 'timer' }];
    this.sessionTimerHeaders(leg, headers, 'uac');
    let body = EMPTY_BODY;
    if (!useUpdate && leg.lastSdp !== undefined) {
      body = leg.lastSdp;
      headers.push({ name: 'content-type', value: leg.lastContentType ?? 'application/sdp' });
    }
    const req = d.createRequest(useUpdate ? 'UPDATE' : 'INVITE', leg.contact, headers, body);
    const fail = (reason: EndReason): void => {
      if (!useUpdate) leg.inviteClient = undefined;
      b2b.endCall(call, reason);
    };
    const user: ClientTransactionUser = {
      onResponse: (res) => {
        if (res.status < 200 || call.ended) return;
        if (!useUpdate) leg.inviteClient = undefined;
        if (res.status < 300) {
          if (!useUpdate) {
            const ack = d.createRequest('ACK', leg.contact, [], EMPTY_BODY, cseqOf(res)?.seq ?? d.localSeq);
            this.sendAck(ack, d.destination() ?? dest);
          }
          // The peer's answer to a refresh may move its media: the engine learns it (nothing crosses).
          if (res.body.length > 0) b2b.viaMedia(call, sideOf(call, leg), res, 'answer', () => undefined, () => undefined);
          this.#learnRefresh(leg, res);
          this.startSessionTimers(call);
        } else if (endsDialog(res.status)) {
          fail('refresh-failed');
        } else {
          this.startSessionTimers(call);
        }
      },
      onTimeout: () => fail('refresh-failed'),
      onTransportError: () => fail('refresh-failed'),
    };
    const ct = b2b.tx.sendRequest(req, dest, user);
    if (!useUpdate) leg.inviteClient = ct;
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

function toTagOfAck(ack: SipRequest): string | undefined {
  const to = getHeader(ack, 'to');
  if (to === undefined) return undefined;
  const m = /;\s*tag\s*=\s*([^;\s>]+)/i.exec(to.slice(Math.max(0, to.lastIndexOf('>'))));
  return m?.[1];
}


function sideOf(call: Call, leg: Leg): 'a' | 'b' {
  return leg === call.a ? 'a' : 'b';
}
