import { answerChallenge } from '../../auth/digest.ts';
import type { HangupCause, HeaderField, PartyIdentity, SessionBody } from '../../../common/call-leg.ts';
import { Dialog } from '../dialog/dialog.ts';
import { parseMinSe, parseSessionExpires } from '../dialog/session-timer.ts';
import { getHeader, getHeaderValues } from '../message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../transaction/types.ts';
import type { Destination } from '../transport/types.ts';
import { ALLOW_VALUE, crossingFields } from './header-policy.ts';
import { EMPTY_BODY } from './responses.ts';
import { SipLeg } from './sip-leg.ts';
import type { SipLegDeps } from './sip-leg.ts';
import { assertedCaller, bodyOf, contactUri, contentTypeOf, crossingOf, cseqOf, fieldsOf, hasToken, hideFromHost, reasonFields, stripTag, toTagOf } from './sip-util.ts';

/** What the call gives the callee's leg to place its INVITE. */
export interface CalleePlacement {
  /** Where the INVITE goes (a located hop). */
  readonly dest: Destination;
  /** Its Request-URI. */
  readonly requestUri: string;
  /** The fields of the request that started the call on the caller's side (From, To, Max-Forwards and those that cross). */
  readonly origin: readonly HeaderField[];
  /** The identity Carillon asserts for the caller (a trunk's caller ID and calling name, RFC 3325), if any. */
  readonly caller: PartyIdentity | undefined;
  /** Carillon's offer for this leg (the caller's, anchored), or none for a late offer. */
  readonly offer: SessionBody | undefined;
  /** Offer 100rel (RFC 3262): the caller's side can take reliable provisionals. */
  readonly offerReliable: boolean;
  /** Credentials for this target's digest challenges (a carrier's). */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
}

/**
 * The callee's leg: Carillon is the UAC of an INVITE it places (RFC 3261 §13.2). It tells its call
 * of provisionals, the answer or the failure; it answers a carrier's digest challenge once, retries
 * a 422 once with the Min-SE named (RFC 4028 §7.4), PRACKs reliable provisionals, and ACKs and hangs
 * up any 2xx that comes when nobody wants it any more (RFC 3261 §15).
 */
export class SipCalleeLeg extends SipLeg {
  /** The INVITE that sets this leg up (replaced on a 422 or challenge retry). */
  current: ClientTransaction | undefined;
  #placement: CalleePlacement | undefined;
  #challengeAnswered = false;
  /** The last RSeq of a reliable provisional from each fork (by To tag). */
  readonly #rseqSeen = new Map<string, number>();
  /** Whether the call still wants this leg's answers (after close, a 2xx is stray). */
  #wanted = true;

  constructor(deps: SipLegDeps, transport: Destination['transport'], contact: string, wireCallId: string) {
    super(deps, 'uac', transport, contact, wireCallId);
  }

  /** Host Carillon writes for itself (advertised address). */
  #ownHost(): string {
    const hub = this.deps.hub;
    const local = hub.local('udp') ?? hub.local('tcp') ?? hub.local('tls');
    return local?.address ?? '127.0.0.1';
  }

  /** Sends the INVITE. */
  place(p: CalleePlacement): void {
    this.#placement = p;
    this.#sendInvite(this.deps.sessionExpiresSec, undefined);
  }

  #sendInvite(sessionExpiresSec: number, auth: SipHeader | undefined): void {
    const p = this.#placement;
    if (p === undefined) return;
    const deps = this.deps;
    const d = this.dialog;
    const tag = d?.localTag ?? deps.random.token(10);
    const seq = (d?.localSeq ?? 0) + 1;
    const field = (name: string): string | undefined => p.origin.find((f) => f.name === name)?.value;
    const crossing: SipHeader[] = crossingFields(p.origin).filter((f) => f.name !== 'content-type');
    const asserted = p.caller === undefined ? undefined : assertedCaller(p.caller, this.#ownHost(), crossing);
    const from = d?.localUri ?? asserted ?? hideFromHost(stripTag(field('from') ?? ''), this.#ownHost());
    const to = stripTag(field('to') ?? '');
    const mf = Number(field('max-forwards') ?? '70');
    const headers: SipHeader[] = [
      { name: 'max-forwards', value: String(Math.max(0, (Number.isFinite(mf) ? mf : 70) - 1)) },
      { name: 'from', value: `${from};tag=${tag}` },
      { name: 'to', value: to },
      { name: 'call-id', value: this.wireCallId },
      { name: 'cseq', value: `${seq} INVITE` },
      { name: 'contact', value: this.contact },
      { name: 'allow', value: ALLOW_VALUE },
      { name: 'supported', value: p.offerReliable ? 'timer, 100rel' : 'timer' },
      { name: 'session-expires', value: String(sessionExpiresSec) },
      { name: 'min-se', value: String(deps.minSeSec) },
      ...crossing,
      ...contentTypeOf(p.offer),
    ];
    if (auth !== undefined) headers.push(auth);
    const body = p.offer?.bytes ?? EMPTY_BODY;
    const invite: SipRequest = { kind: 'request', method: 'INVITE', uri: p.requestUri, headers, body };
    // The dialog exists in its early form now so that its identifiers serve CANCEL and ACK; the
    // remote tag and target come with the first tagged response.
    if (d === undefined) {
      this.dialog = new Dialog({
        callId: this.wireCallId,
        localTag: tag,
        localUri: from,
        remoteUri: to,
        localSeq: seq,
        remoteTarget: invite.uri,
        routeSet: [],
        flow: p.dest.transport === 'udp' ? { transport: p.dest.transport } : { transport: p.dest.transport, address: p.dest.address, port: p.dest.port },
        state: 'early',
      });
      deps.dialogs.add(this.dialog.key, this);
    } else {
      d.localSeq = seq;
    }
    this.noteSent(body, p.offer?.contentType);
    const user: ClientTransactionUser = {
      onResponse: (res, ct) => this.#onResponse(res, ct),
      onTimeout: (ct) => {
        if (ct === this.current && this.#wanted) this.events.failed({ kind: 'timeout', status: 408, reason: undefined, crossing: [] });
      },
      onTransportError: (ct) => {
        if (ct === this.current && this.#wanted) this.events.failed({ kind: 'transport', status: 503, reason: undefined, crossing: [] });
      },
    };
    const ct = deps.tx().sendRequest(invite, p.dest, user);
    this.inviteClient = ct;
    this.current = ct;
    // The INVITE as sent (with Carillon's Via): the leg's setup fields.
    this.setupHeaders = fieldsOf(invite);
  }

  #onResponse(res: SipResponse, ct: ClientTransaction): void {
    const status = res.status;
    if (status === 100) return;
    const d = this.dialog;
    const p = this.#placement;
    if (d === undefined || p === undefined) return;
    const tag = toTagOf(res);
    if (!this.#wanted) {
      if (status < 200 || status >= 300 || tag === undefined) return;
      // A retransmitted 2xx of the dialog we had: resend our ACK. Any other 2xx came too late:
      // nobody wants the call any more, so it gets an ACK and a BYE (RFC 3261 §15).
      if (tag === d.remoteTag && this.owedAck?.ack !== undefined) this.resendOwedAck(cseqOf(res)?.seq);
      else this.#ackAndByeStray(res, ct);
      return;
    }
    if (ct !== this.current) {
      // An answer to an INVITE that was replaced (422 or challenge retry): only a stray 2xx matters.
      if (status >= 200 && status < 300 && tag !== undefined && tag !== d.remoteTag) this.#ackAndByeStray(res, ct);
      return;
    }
    if (status < 200) {
      if (tag !== undefined) this.#learnDialog(res, tag, false);
      const reliable = tag !== undefined && hasToken(res, 'require', '100rel');
      // RFC 3262 §4: a reliable provisional resent (its RSeq not above the last) is neither PRACKed nor processed.
      if (reliable && !this.#newRseq(tag, res)) return;
      if (reliable) this.#prack(res);
      this.events.progress(status, res.reason, bodyOf(res), crossingOf(res), hasToken(res, 'require', '100rel'));
      return;
    }
    this.inviteClient = undefined;
    if (status < 300) {
      // RFC 3261 §8.2.6.2: a 2xx carries the UAS's To tag; without one there is no dialog to ACK,
      // refresh or hang up, so the call cannot go on (it would otherwise wait for ever).
      if (tag === undefined) {
        if (d.state !== 'confirmed') this.events.failed({ kind: 'unusable', status: 502, reason: 'Callee Answer Without To Tag', crossing: [] });
        return;
      }
      if (d.state === 'confirmed') {
        // A 2xx retransmission (resend our ACK if we sent it) or a second fork's 2xx.
        if (tag === d.remoteTag) this.resendOwedAck(cseqOf(res)?.seq);
        else this.#ackAndByeStray(res, ct);
        return;
      }
      this.#learnDialog(res, tag, true);
      this.supportsTimer = hasToken(res, 'supported', 'timer') || hasToken(res, 'require', 'timer');
      this.allowsUpdate = hasToken(res, 'allow', 'update');
      const se = parseSessionExpires(getHeader(res, 'session-expires'));
      // RFC 4028 §7.2: a 2xx without Session-Expires means no session timer on this leg.
      this.sessionIntervalSec = se?.intervalSec ?? 0;
      this.localRefresher = se !== undefined && se.refresher !== 'uas';
      this.owedAck = { cseq: cseqOf(res)?.seq ?? d.localSeq, ack: undefined, destination: undefined };
      this.events.answered(status, res.reason, bodyOf(res), crossingOf(res));
      return;
    }
    // RFC 4028 §7.4: a 422 is retried once with the Min-SE it names.
    if (status === 422) {
      const minSe = parseMinSe(getHeader(res, 'min-se'));
      const current = parseSessionExpires(getHeader(ct.request, 'session-expires'))?.intervalSec ?? 0;
      if (minSe !== undefined && minSe > current && minSe <= 86_400) return this.#sendInvite(minSe, undefined);
    }
    // A challenge is for Carillon's own credentials toward the callee (a carrier's), answered once;
    // the caller can't answer it.
    const cred = p.credentials;
    if ((status === 401 || status === 407) && cred !== undefined && !this.#challengeAnswered) {
      const value = answerChallenge(getHeaderValues(res, status === 401 ? 'www-authenticate' : 'proxy-authenticate'), 'INVITE', ct.request.uri, cred.username, cred.password, this.deps.random.token(16));
      this.#challengeAnswered = true;
      const interval = parseSessionExpires(getHeader(ct.request, 'session-expires'))?.intervalSec ?? this.deps.sessionExpiresSec;
      if (value !== undefined) return this.#sendInvite(interval, { name: status === 401 ? 'authorization' : 'proxy-authorization', value });
    }
    const relayStatus = status === 401 || status === 407 ? 403 : status;
    this.events.failed({ kind: 'rejected', status: relayStatus, reason: relayStatus === status ? res.reason : undefined, crossing: crossingOf(res) });
  }

  /** The dialog learns its remote tag, target and route set from a tagged response. */
  #learnDialog(res: SipResponse, tag: string, confirmed: boolean): void {
    const d = this.dialog;
    if (d === undefined || d.state === 'confirmed') return;
    d.remoteTag = tag;
    const target = contactUri(res);
    if (target !== undefined) d.remoteTarget = target;
    const rr = getHeaderValues(res, 'record-route');
    if (rr.length > 0 || confirmed) d.routeSet = rr.reverse();
    if (confirmed) d.transition('confirmed');
  }

  /** Whether a reliable provisional's RSeq is above the last seen from that fork (recorded). */
  #newRseq(tag: string, res: SipResponse): boolean {
    const n = Number((getHeader(res, 'rseq') ?? '').trim());
    if (!Number.isInteger(n)) return true;
    const last = this.#rseqSeen.get(tag);
    if (last !== undefined && n <= last) return false;
    this.#rseqSeen.set(tag, n);
    return true;
  }

  /** The callee sent a reliable provisional (RFC 3262 §4): PRACK it. */
  #prack(res: SipResponse): void {
    const d = this.dialog;
    const rseq = getHeader(res, 'rseq');
    const cseq = cseqOf(res);
    if (d === undefined || rseq === undefined || cseq === undefined || !/^\d+$/.test(rseq.trim())) return;
    const dest = d.destination();
    if (dest === undefined) return;
    const prack = d.createRequest('PRACK', this.contact, [{ name: 'rack', value: `${rseq.trim()} ${cseq.seq} ${cseq.method}` }]);
    this.deps.tx().sendRequest(prack, dest, NOOP);
  }

  /** ACKs a 2xx nobody wants any more and hangs it up. */
  #ackAndByeStray(res: SipResponse, ct: ClientTransaction): void {
    const d = this.dialog;
    const tag = toTagOf(res);
    if (d === undefined || tag === undefined) return;
    const dest = ct.destination;
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
    const hub = this.deps.hub;
    const local = hub.local(dest.transport);
    const contact = local === undefined ? '' : `<sip:${local.address}:${local.port};transport=${dest.transport}>`;
    const target = stray.destination() ?? dest;
    this.sendAck(stray.createRequest('ACK', contact, [], EMPTY_BODY), target);
    this.deps.tx().sendRequest(stray.createRequest('BYE', contact, []), target, NOOP);
  }

  protected onPrack(tx: ServerTransaction): void {
    this.refuse(tx, 481);
  }

  /** Not for a leg Carillon placed. */
  progress(): void {
    // The callee's leg answers nobody's INVITE.
  }

  answer(): void {
    // The callee's leg answers nobody's INVITE.
  }

  /**
   * Ends the leg: CANCEL while its INVITE has no final answer (RFC 3261 §9.1), else — the ACK it
   * is owed first, or the callee keeps resending its 2xx — BYE.
   */
  hangup(cause: HangupCause | undefined): void {
    if (this.closed) return;
    const ict = this.current;
    if (this.dialog?.state === 'confirmed') {
      if (this.owedAck !== undefined && this.owedAck.ack === undefined) this.confirm(undefined);
      this.sendBye(reasonFields(cause));
    } else if (ict !== undefined && ict.state !== 'terminated' && ict.state !== 'completed' && ict.state !== 'accepted') {
      this.deps.tx().cancel(ict, reasonFields(cause));
    }
  }

  /** A 2xx that comes after this is answered with ACK and BYE (the transaction outlives the leg). */
  override close(): void {
    this.#wanted = false;
    super.close();
  }
}

const NOOP: ClientTransactionUser = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};
