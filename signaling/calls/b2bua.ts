import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Clock, Timers } from '../../common/clock.ts';
import { callId as toCallId } from '../../common/ids.ts';
import type { CallId } from '../../common/ids.ts';
import type { Random } from '../../common/random.ts';
import { Dialog, dialogKey } from '../sip/dialog/dialog.ts';
import { nextHopOf } from '../sip/dialog/target.ts';
import { parseMinSe, parseSessionExpires } from '../sip/dialog/session-timer.ts';
import { getHeader, getHeaderValues } from '../sip/message/headers.ts';
import { answerChallenge } from '../auth/digest.ts';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message/types.ts';
import type { TransactionLayer } from '../sip/transaction/transaction-layer.ts';
import { TIMER_C_MS } from '../sip/transaction/invite-client-transaction.ts';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, TransactionUser } from '../sip/transaction/types.ts';
import type { TransportHub } from '../sip/transport/transport-hub.ts';
import type { Destination, Source, TransportName } from '../sip/transport/types.ts';
import { createResponse, EMPTY_BODY } from '../sip/ua/responses.ts';
import { Call, Leg, reasonHeader } from './call.ts';
import type { B2buaCounters, CalleeHandle, DialogEntry, EndReason } from './call.ts';
import { ACCEPT_VALUE, ALLOW_VALUE, capabilitiesAnswer, copyCrossingHeaders, KNOWN_NOT_ALLOWED, RELAYED_IN_DIALOG } from '../sip/ua/header-policy.ts';
import { InDialog } from './in-dialog.ts';
import { learnCalleeDialog, relayProvisionalToCaller, setUpCallerLeg } from './leg-setup.ts';
import { checkMaxForwards, checkOwnLoop, checkRequire, checkSessionInterval, maxForwards } from '../sip/ua/request-checks.ts';
import type { Refusal } from '../sip/ua/request-checks.ts';
import { assertedCaller, contactUri, cseqOf, fromTagOf, hasToken, hideFromHost, requestUser, setupFieldsOf, stripTag, toTagOf } from './sip-util.ts';
import type { RouteDecision } from '../routing/route.ts';
import type { MediaAnchoring, SdpRole } from './call-media.ts';
import type { CallEvents } from './call-events.ts';
import type { Recorder } from './recording-session.ts';
import { qualityContextOf } from './call-media.ts';
import type { SipMessage } from '../sip/message/types.ts';
import { outboundRequestUri, refusalHeaders, requestUriOf } from '../sip/ua/sip-routing.ts';
import type { DigestAuth } from '../auth/digest.ts';
import { servedTransports } from '../sip/resolve/sip-resolver.ts';
import type { SipHop, SipLocate } from '../sip/resolve/sip-resolver.ts';

/** How long a call may wait for an answer after its latest callee attempt: Timer C plus 64·T1 at the default T1. */
export const SETUP_GUARD_MS = TIMER_C_MS + 32_000;

/** Decides where a new call goes (a pure function over the current config snapshot). */
export type Router = (req: SipRequest, source: Source) => RouteDecision;

export interface B2buaOptions {
  readonly hub: TransportHub;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly router: Router;
  /** Writes the digest challenges routing asks for (407 Proxy-Authenticate). */
  readonly digest?: Pick<DigestAuth, 'challenge'> | undefined;
  readonly t1Ms: number;
  readonly t2Ms: number;
  /** Session interval Carillon asks for and grants, seconds (RFC 4028). Default 1800. */
  readonly sessionExpiresSec: number;
  /** Smallest session interval Carillon accepts, seconds (≥ 90). */
  readonly minSeSec: number;
  /** RFC 3263: the hops a target URI's INVITE is tried at, in order (injected; production asks DNS). */
  readonly locate: SipLocate;
  /** Media anchoring (absent: bodies cross untouched). */
  readonly media?: MediaAnchoring | undefined;
  /** Where calls' events go (metrics, CDRs, logs, streaming). */
  readonly events?: CallEvents | undefined;
  /** Answers SIPREC recording sessions that routing accepted (absent: they get 488). */
  readonly recorder?: Recorder | undefined;
  /** Told of every out-of-dialog OPTIONS (a trunk's keepalive: termination health). */
  readonly onOptions?: ((req: SipRequest, source: Source) => void) | undefined;
}

/** A DTMF digit detected in a call's media, in either direction (the meeting IVR listens here). */
export type DtmfListener = (call: Call, side: 'caller' | 'callee', digit: string, durationMs: number) => void;

/**
 * The back-to-back user agent: every inbound INVITE becomes a Call with two legs, each with its
 * own Call-ID, tags, branches and Contact (topology hiding). It is the transaction user of the
 * transaction layer.
 */
export class B2bua implements TransactionUser {
  readonly opts: B2buaOptions;
  readonly calls = new Map<CallId, Call>();
  readonly dialogs = new Map<string, DialogEntry>();
  /** Caller INVITEs still waiting for a final answer, by Call-ID/From-tag/CSeq (merged-request check). */
  readonly #pendingInvites = new Map<string, ServerTransaction>();
  readonly #callByInvite = new WeakMap<ServerTransaction, Call>();
  /** The hops of a call's current target not tried yet (RFC 3263 §4.3), next first. */
  readonly #hops = new WeakMap<Call, { readonly target: string; readonly rest: SipHop[] }>();
  readonly counters: B2buaCounters = {
    callsStarted: 0,
    callsAnswered: 0,
    callsFailed: 0,
    callsEnded: 0,
    finalByClass: [0, 0, 0, 0, 0, 0, 0],
    rejectedRequests: 0,
    strayResponses: 0,
  };
  #tx: TransactionLayer | undefined;
  #draining = false;
  readonly #inDialog: InDialog;
  /** Who hears DTMF digits detected in calls' media. */
  readonly dtmfListeners = new Set<DtmfListener>();
  /** Carillon's own sent-by values ('host:port') for loop detection. */
  ownSentBy = new Set<string>();

  constructor(opts: B2buaOptions) {
    this.opts = opts;
    this.#inDialog = new InDialog(this);
  }

  /** Wires the transaction layer (which is built with this B2BUA as its user). */
  attach(tx: TransactionLayer): void {
    this.#tx = tx;
  }

  get tx(): TransactionLayer {
    const tx = this.#tx;
    if (tx === undefined) throw new Error('B2BUA used before attach()');
    return tx;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Host Carillon writes for itself (advertised address). */
  get #ownHost(): string {
    const local = this.opts.hub.local('udp') ?? this.opts.hub.local('tcp') ?? this.opts.hub.local('tls');
    return local?.address ?? '127.0.0.1';
  }

  /** Carillon's Contact for a transport. */
  contactFor(transport: TransportName): string | undefined {
    const local = this.opts.hub.local(transport);
    if (local === undefined) return undefined;
    return `<sip:${local.address}:${local.port};transport=${transport}>`;
  }

  // ---- TransactionUser ----

  onRequest(tx: ServerTransaction): void {
    const req = tx.request;
    const toTag = toTagOf(req);
    // In a dialog: a recording session's, or a call's.
    if (toTag !== undefined) return void (this.opts.recorder?.onRequest(tx) === true || this.#inDialog.onRequest(tx, toTag));
    const refusal = checkRequire(req);
    if (refusal !== undefined) return this.refuse(tx, refusal);
    switch (req.method) {
      case 'INVITE':
        this.#onInvite(tx);
        return;
      case 'OPTIONS':
        // OPTIONS to Carillon itself: capabilities, and no version banner (SPEC §2).
        this.opts.onOptions?.(req, tx.source);
        tx.respond(capabilitiesAnswer(req, this.opts.random.token(10)));
        return;
      case 'BYE':
      case 'PRACK':
      case 'UPDATE':
      case 'INFO':
      case 'NOTIFY':
        // These only make sense inside a dialog.
        return this.refuse(tx, { status: 481 });
      default:
        if (KNOWN_NOT_ALLOWED.has(req.method) || RELAYED_IN_DIALOG.has(req.method)) {
          return this.refuse(tx, { status: 405, headers: [{ name: 'allow', value: ALLOW_VALUE }] });
        }
        // RFC 3261 §21.5.2: 501 for a method the server does not recognise.
        return this.refuse(tx, { status: 501, headers: [{ name: 'allow', value: ALLOW_VALUE }] });
    }
  }

  onAck(ack: SipRequest, _source: Source): void {
    if (this.opts.recorder?.onAck(ack) !== true) this.#inDialog.onAck(ack);
  }

  onCancel(invite: ServerTransaction, _cancel: SipRequest): void {
    const entry = this.#callOfInvite(invite);
    if (entry === undefined) {
      if (!invite.finalSent) invite.respond(createResponse(invite.request, 487, { toTag: this.opts.random.token(10) }));
      return;
    }
    const call = entry;
    if (call.a.inviteServer === invite && !invite.finalSent) {
      this.endCall(call, 'caller-cancel', 487);
    }
  }

  onStrayResponse(_res: SipResponse, _source: Source): void {
    this.counters.strayResponses++;
  }

  /**
   * The caller's INVITE transaction could not deliver a response (its TCP connection went, its
   * Via named no usable address): nothing more reaches the caller, so the call ends — the callee
   * gets CANCEL or BYE — instead of waiting for ever on a caller that already counts as answered.
   */
  onServerTransportError(invite: ServerTransaction): void {
    const call = this.#callOfInvite(invite);
    if (call !== undefined && call.a.inviteServer === invite) this.endCall(call, 'transport-error');
  }

  // ---- New calls ----

  #onInvite(tx: ServerTransaction): void {
    const req = tx.request;
    if (this.#draining) return this.refuse(tx, { status: 503, headers: [{ name: 'retry-after', value: '30' }] });
    const refusal =
      checkMaxForwards(req) ?? checkOwnLoop(req, this.ownSentBy) ?? checkSessionInterval(req, this.opts.minSeSec);
    if (refusal !== undefined) return this.refuse(tx, refusal);
    const cseq = cseqOf(req);
    const fromTag = fromTagOf(req);
    const callIdA = getHeader(req, 'call-id');
    const remoteTarget = contactUri(req);
    if (cseq === undefined || callIdA === undefined) return this.refuse(tx, { status: 400, reason: 'Bad CSeq or Call-ID' });
    if (remoteTarget === undefined) return this.refuse(tx, { status: 400, reason: 'Missing Contact' });
    // RFC 3261 §8.2.2.2: the same request arriving again by another path (merged) → 482.
    const mergeKey = `${callIdA}\u0000${fromTag ?? ''}\u0000${cseq.seq}`;
    if (this.#pendingInvites.has(mergeKey)) return this.refuse(tx, { status: 482, reason: 'Merged Request' });

    // Carillon anchors sessions it can describe: SDP, alone or inside multipart (SIPREC). RFC 3261 §21.4.16.
    const contentType = (getHeader(req, 'content-type') ?? '').toLowerCase();
    if (req.body.length > 0 && !contentType.startsWith('application/sdp') && !contentType.startsWith('multipart/')) {
      return this.refuse(tx, { status: 415, headers: [{ name: 'accept', value: ACCEPT_VALUE }] });
    }
    const decision = this.opts.router(req, tx.source);
    if (decision.kind === 'reject') {
      this.opts.events?.emit({ type: 'refused', trunk: decision.trunk, sipCallId: getHeader(req, 'call-id'), status: decision.status, rule: decision.rule, throttled: decision.throttled === true });
      const headers = this.opts.digest === undefined ? [] : refusalHeaders(decision, this.opts.digest, tx.source);
      return this.refuse(tx, { status: decision.status, ...(decision.reason === undefined ? {} : { reason: decision.reason }), ...(headers.length === 0 ? {} : { headers }) });
    }
    if (decision.kind === 'record') return this.opts.recorder === undefined ? this.refuse(tx, { status: 488, reason: 'Recording Not Available' }) : this.opts.recorder.take(tx, decision.trunk);
    const target = requestUriOf(decision.hop);
    const next = nextHopOf(target);
    if (next === undefined) return this.refuse(tx, { status: 502, reason: 'Bad Route Target' });
    const contactA = this.contactFor(tx.source.transport);
    const contactB = this.contactFor(next.transport);
    if (contactA === undefined || contactB === undefined) return this.refuse(tx, { status: 503, reason: 'Transport Unavailable' });

    const { random, timers, t1Ms, t2Ms, clock } = this.opts;
    const id = toCallId(random.token(16));
    const a = new Leg('uas', tx.source.transport, contactA, timers, t1Ms, t2Ms, callIdA);
    const b = new Leg('uac', next.transport, contactB, timers, t1Ms, t2Ms, random.token(20));
    const call = new Call(id, req, a, b, clock.monoMs());
    const aDialog = setUpCallerLeg(a, tx, { callId: callIdA, localTag: random.token(10), remoteTag: fromTag, remoteSeq: cseq.seq, remoteTarget }, this.opts.sessionExpiresSec, this.opts.minSeSec);
    this.calls.set(id, call);
    this.dialogs.set(aDialog.key, { call, leg: a });
    this.#pendingInvites.set(mergeKey, tx);
    call.mergeKey = mergeKey;
    this.#callByInvite.set(tx, call);
    this.counters.callsStarted++;
    call.trunk = decision.trunk;
    call.caller = decision.caller;
    call.credentials = decision.hop.credentials;
    call.alternates = [...decision.alternates];
    a.setupHeaders = setupFieldsOf(req);
    this.opts.events?.emit({ type: 'started', call: call.summary() });
    const anchoring = this.opts.media;
    if (anchoring !== undefined) {
      call.media = anchoring.open(id, qualityContextOf(req, id, anchoring.opts.region, decision.trunk), {
        onTimeout: () => this.endCall(call, 'media-timeout'),
        onDtmf: (side, digit, durationMs) => {
          for (const l of this.dtmfListeners) l(call, side === 'a' ? 'caller' : 'callee', digit, durationMs);
        },
      }, tx.source.address);
    }
    call.media?.secureTrunk(decision.trunk);
    this.#placeCallee(call, target, true);
  }

  /**
   * Sends the callee INVITE to `target`, the caller's offer translated first when `translateOffer`,
   * at the first hop RFC 3263 finds for it (an IP literal is its own hop); the other hops wait
   * for #failover.
   */
  #placeCallee(call: Call, target: string, translateOffer: boolean): void {
    if (translateOffer) {
      return this.viaMedia(call, 'a', call.invite, 'offer', (body) => {
        call.calleeOfferBody = body;
        this.#placeCallee(call, target, false);
      });
    }
    this.#hops.delete(call);
    const next = nextHopOf(target);
    if (next === undefined) return void (this.#failover(call) || this.endCall(call, 'no-route', 502, 'Bad Route Target'));
    call.attempts++;
    this.#guardSetup(call);
    if (isIP(next.host) !== 0) return this.#sendToHop(call, target, { transport: next.transport, address: next.host, port: next.port });
    const unresolvable = (): void => void (this.#failover(call) || this.endCall(call, 'no-route', 503, 'Next Hop Not Resolvable', [{ name: 'retry-after', value: '30' }]));
    this.opts.locate(target, servedTransports(this.opts.hub)).then((loc) => {
      if (call.ended) return;
      if (!loc.ok) return loc.reason === 'no-transport' ? void (this.#failover(call) || this.endCall(call, 'no-route', 503, 'Transport Unavailable')) : unresolvable();
      const [first, ...rest] = loc.hops;
      if (first === undefined) return unresolvable();
      if (rest.length > 0) this.#hops.set(call, { target, rest });
      this.#sendToHop(call, target, first);
    }, unresolvable);
  }

  /** Sends the callee INVITE to one hop, on a fresh callee leg when asked or when the hop's transport is not the leg's. */
  #sendToHop(call: Call, target: string, hop: SipHop, freshLeg = false): void {
    if (freshLeg || hop.transport !== call.b.transport) {
      const contact = this.contactFor(hop.transport);
      if (contact === undefined) return void (this.#failover(call) || this.endCall(call, 'no-route', 503, 'Transport Unavailable'));
      this.#freshCalleeLeg(call, hop.transport, contact);
    }
    this.#sendCalleeInvite(call, target, { transport: hop.transport, address: hop.address, port: hop.port }, call.invite, this.opts.sessionExpiresSec);
  }

  /** Replaces the callee leg (nothing of the old one answers for the call any more). */
  #freshCalleeLeg(call: Call, transport: TransportName, contact: string): void {
    const old = call.b;
    if (old.dialog !== undefined) this.dialogs.delete(old.dialog.key);
    if (call.calleeHandle !== undefined) call.calleeHandle.call = undefined;
    old.close();
    call.calleeInvite = undefined;
    call.b = new Leg('uac', transport, contact, this.opts.timers, this.opts.t1Ms, this.opts.t2Ms, old.wireCallId);
    call.challengeAnswered = false;
  }

  /**
   * A caller that no final answer has reached within Timer C and then some of the latest callee
   * attempt (RFC 3261 §16.6: the INVITE transaction's own Timer C acts first) gets 408 and the
   * call ends: an answer that was lost, refused, unusable or held back can never leave a caller
   * ringing for ever, nor its ports held.
   */
  #guardSetup(call: Call): void {
    const timers = this.opts.timers;
    timers.clearTimeout(call.setupGuard);
    call.setupGuard = timers.setTimeout(() => {
      call.setupGuard = undefined;
      if (!call.ended && call.a.inviteServer?.finalSent !== true) this.endCall(call, 'timeout', 408);
    }, SETUP_GUARD_MS);
  }

  /**
   * After the callee leg failed (408, 5xx, timeout, transport error) and before any answer, tries
   * the next hop of the same target on a 503, a 408, a timeout or a transport error (RFC 3263
   * §4.3; `status` undefined), else the call's next target, on a fresh callee leg; false when
   * nothing is left.
   */
  #failover(call: Call, status?: number): boolean {
    const st = call.a.inviteServer;
    if (call.ended || call.state === 'ending' || call.state === 'answered' || call.state === 'confirmed' || st === undefined || st.finalSent) return false;
    const pending = this.#hops.get(call);
    const again = status === undefined || status === 503 || status === 408 ? pending?.rest.shift() : undefined;
    if (pending !== undefined && again !== undefined) {
      this.#sendToHop(call, pending.target, again, true);
      return true;
    }
    this.#hops.delete(call);
    const next = call.alternates.shift();
    if (next === undefined) return false;
    const nextTarget = requestUriOf(next);
    const hop = nextHopOf(nextTarget);
    const contact = hop === undefined ? undefined : this.contactFor(hop.transport);
    if (hop === undefined || contact === undefined) return this.#failover(call);
    this.#freshCalleeLeg(call, hop.transport, contact);
    if (next.trunk !== undefined) call.trunk = next.trunk;
    call.credentials = next.credentials;
    // A voice connector of a group may differ on encryption: the offer is written again for it.
    this.#placeCallee(call, nextTarget, next.trunk !== undefined && call.media?.secureTrunk(next.trunk) === true);
    return true;
  }

  /**
   * Passes a message's body crossing from leg `from` through media anchoring (in order, per
   * call), then continues with the rewritten body; a body Carillon can't anchor ends the call
   * with the status the anchoring chose (or `onFail` decides).
   */
  viaMedia(call: Call, from: 'a' | 'b', msg: SipMessage, role: SdpRole, then: (body: Buffer) => void, onFail?: (status: number, reason: string) => void, answers = false): void {
    const media = call.media;
    if (media === undefined) return then(msg.body);
    media.translate(from, msg.body, getHeader(msg, 'content-type'), role, answers).then(
      (r) => {
        if (call.ended) return;
        if (r.ok) then(r.body);
        else if (onFail !== undefined) onFail(r.status, r.reason);
        else this.endCall(call, 'media-unavailable', r.status, r.reason);
      },
      () => {
        if (!call.ended) this.endCall(call, 'internal-error', 500);
      },
    );
  }

  #sendCalleeInvite(call: Call, target: string, dest: Destination, req: SipRequest, sessionExpiresSec: number, auth?: SipHeader): void {
    const b = call.b;
    const random = this.opts.random;
    const bTag = b.dialog?.localTag ?? random.token(10);
    const bCallId = b.dialog?.callId ?? b.wireCallId;
    const seq = (b.dialog?.localSeq ?? 0) + 1;
    const crossing: SipHeader[] = [];
    copyCrossingHeaders(req, crossing);
    const asserted = call.caller === undefined ? undefined : assertedCaller(call.caller, this.#ownHost, crossing);
    const from = b.dialog?.localUri ?? asserted ?? hideFromHost(stripTag(getHeader(req, 'from') ?? ''), this.#ownHost);
    const headers: SipHeader[] = [
      { name: 'max-forwards', value: String(Math.max(0, maxForwards(req) - 1)) },
      { name: 'from', value: `${from};tag=${bTag}` },
      { name: 'to', value: stripTag(getHeader(req, 'to') ?? '') },
      { name: 'call-id', value: bCallId },
      { name: 'cseq', value: `${seq} INVITE` },
      { name: 'contact', value: b.contact },
      { name: 'allow', value: ALLOW_VALUE },
      { name: 'supported', value: call.a.supports100rel ? 'timer, 100rel' : 'timer' },
      { name: 'session-expires', value: String(sessionExpiresSec) },
      { name: 'min-se', value: String(this.opts.minSeSec) },
      ...crossing,
    ];
    if (auth !== undefined) headers.push(auth);
    const body = call.calleeOfferBody ?? req.body;
    const invite: SipRequest = { kind: 'request', method: 'INVITE', uri: outboundRequestUri(target, requestUser(req)), headers, body };
    // The callee leg's dialog is created now in its early form so that its identifiers exist
    // for CANCEL/ACK; the remote tag and target come with the first tagged response.
    b.dialog = new Dialog({
      callId: bCallId,
      localTag: bTag,
      localUri: from,
      remoteUri: stripTag(getHeader(req, 'to') ?? ''),
      localSeq: seq,
      remoteTarget: invite.uri,
      routeSet: [],
      flow:
        dest.transport === 'udp'
          ? { transport: dest.transport }
          : { transport: dest.transport, address: dest.address, port: dest.port },
      state: 'early',
    });
    this.dialogs.set(b.dialog.key, { call, leg: b });
    b.lastSdp = body.length > 0 ? body : undefined;
    b.lastContentType = getHeader(req, 'content-type');
    call.transition('calling');
    // The transaction outlives the call by up to 64·T1 (RFC 6026 Timer M); it holds this handle,
    // which lets go of the call when the call ends so nothing large lingers with it.
    const handle: CalleeHandle = { call, b };
    call.calleeHandle = handle;
    const user: ClientTransactionUser = {
      onResponse: (res, ct) => this.#onCalleeResponse(handle, res, ct, target, dest),
      onTimeout: () => {
        if (handle.call !== undefined && !this.#failover(handle.call)) this.endCall(handle.call, 'timeout', 408);
      },
      onTransportError: () => {
        if (handle.call !== undefined && !this.#failover(handle.call)) this.endCall(handle.call, 'transport-error', 503);
      },
    };
    const ct = this.tx.sendRequest(invite, dest, user);
    b.inviteClient = ct;
    call.calleeInvite = ct;
    // The INVITE as sent (with Carillon's Via): the callee leg's setup fields.
    b.setupHeaders = setupFieldsOf(invite);
  }

  #onCalleeResponse(handle: CalleeHandle, res: SipResponse, ct: ClientTransaction, target: string, dest: Destination): void {
    const status = res.status;
    if (status === 100) return;
    const { call, b } = handle;
    const bDialog = b.dialog;
    if (bDialog === undefined) return;
    const tag = toTagOf(res);
    if (call === undefined || call.ended || call.state === 'ending') {
      if (status < 200 || status >= 300 || tag === undefined) return;
      // A retransmitted 2xx of the dialog we had: resend our ACK. Any other 2xx came too late:
      // the caller is gone, so it gets an ACK and a BYE (RFC 3261 §15).
      if (tag === bDialog.remoteTag && b.owedAck?.ack !== undefined) this.#inDialog.resendOwedAck(b, cseqOf(res)?.seq);
      else this.#inDialog.ackAndByeStray(bDialog, res, dest, ct);
      return;
    }
    if (call.calleeInvite !== ct) {
      // An answer to an INVITE that was replaced (422 retry): only a stray 2xx matters.
      if (status >= 200 && status < 300 && tag !== undefined && tag !== bDialog.remoteTag) this.#inDialog.ackAndByeStray(bDialog, res, dest, ct);
      return;
    }
    if (status < 200) {
      if (tag !== undefined) learnCalleeDialog(bDialog, res, tag, false);
      if (tag !== undefined && hasToken(res, 'require', '100rel')) this.#inDialog.prackCallee(call, res);
      if (call.state !== 'early' && call.transition('early') && status >= 180) this.opts.events?.emit({ type: 'ringing', call: call.summary(), status });
      this.viaMedia(call, 'b', res, this.#answerRole(call), (body) => relayProvisionalToCaller(call, res, body));
      return;
    }
    b.inviteClient = undefined;
    if (status < 300) {
      // RFC 3261 §8.2.6.2: a 2xx carries the UAS's To tag; without one there is no dialog to ACK,
      // refresh or hang up, so the call cannot go on (it would otherwise wait for ever).
      if (tag === undefined) {
        if (bDialog.state !== 'confirmed') this.endCall(call, 'rejected', 502, 'Callee Answer Without To Tag');
        return;
      }
      if (bDialog.state === 'confirmed') {
        // A 2xx retransmission (resend our ACK if we sent it) or a second fork's 2xx.
        if (tag === bDialog.remoteTag) this.#inDialog.resendOwedAck(b, cseqOf(res)?.seq);
        else this.#inDialog.ackAndByeStray(bDialog, res, dest, ct);
        return;
      }
      learnCalleeDialog(bDialog, res, tag, true);
      b.supportsTimer = hasToken(res, 'supported', 'timer') || hasToken(res, 'require', 'timer');
      b.allowsUpdate = hasToken(res, 'allow', 'update');
      const se = parseSessionExpires(getHeader(res, 'session-expires'));
      // RFC 4028 §7.2: a 2xx without Session-Expires means no session timer on this leg.
      b.sessionIntervalSec = se?.intervalSec ?? 0;
      b.localRefresher = se !== undefined && se.refresher !== 'uas';
      b.owedAck = { cseq: cseqOf(res)?.seq ?? bDialog.localSeq, ack: undefined, destination: undefined };
      call.answeredMs = this.opts.clock.monoMs();
      this.counters.callsAnswered++;
      this.opts.events?.emit({ type: 'answered', call: call.summary() });
      call.media?.answered();
      this.viaMedia(call, 'b', res, this.#answerRole(call), (body) => this.#answerCaller(call, res, body), undefined, true);
      return;
    }
    // Final failure: 408 and 5xx move on to the next target, if the route named one (never 4xx/6xx).
    if ((status === 408 || (status >= 500 && status < 600)) && this.#failover(call, status)) return;
    // RFC 4028 §7.4: a 422 is retried once with the Min-SE it names.
    if (status === 422) {
      const minSe = parseMinSe(getHeader(res, 'min-se'));
      const current = parseSessionExpires(getHeader(ct.request, 'session-expires'))?.intervalSec ?? 0;
      if (minSe !== undefined && minSe > current && minSe <= 86_400) {
        this.#sendCalleeInvite(call, target, dest, call.invite, minSe);
        return;
      }
    }
    // A challenge is for Carillon's own credentials toward the callee (a carrier's), answered once;
    // the caller can't answer it.
    const cred = call.credentials;
    if ((status === 401 || status === 407) && cred !== undefined && !call.challengeAnswered) {
      const value = answerChallenge(getHeaderValues(res, status === 401 ? 'www-authenticate' : 'proxy-authenticate'), 'INVITE', ct.request.uri, cred.username, cred.password, this.opts.random.token(16));
      call.challengeAnswered = true;
      const interval = parseSessionExpires(getHeader(ct.request, 'session-expires'))?.intervalSec ?? this.opts.sessionExpiresSec;
      if (value !== undefined) return this.#sendCalleeInvite(call, target, dest, call.invite, interval, { name: status === 401 ? 'authorization' : 'proxy-authorization', value });
    }
    const relayStatus = status === 401 || status === 407 ? 403 : status;
    const reason = relayStatus === status ? res.reason : undefined;
    const headers: SipHeader[] = [];
    copyCrossingHeaders(res, headers);
    this.endCall(call, 'rejected', relayStatus, reason, headers);
  }

  /** The callee's description answers the caller's offer, or is the offer when the INVITE had none. */
  #answerRole(call: Call): SdpRole {
    return call.invite.body.length > 0 ? 'answer' : 'offer';
  }

  /** Sends the callee's 2xx on to the caller and waits for the caller's ACK (§13.3.1.4). */
  #answerCaller(call: Call, res: SipResponse, body: Buffer): void {
    const a = call.a;
    const st = a.inviteServer;
    const d = a.dialog;
    if (st === undefined || d === undefined || st.finalSent) return;
    // RFC 3262 §3: no 2xx before the PRACK of a reliable provisional that carried a session description.
    if (a.prackWaitRseq !== undefined && a.prackWaitHasSdp) {
      a.afterPrack = () => this.#answerCaller(call, res, body);
      return;
    }
    const out = this.#inDialog.build2xx(a, st.request, res, body);
    a.prackWait.stop();
    a.prackWaitRseq = undefined;
    this.#finalToCaller(call, out);
    d.transition('confirmed');
    call.transition('answered');
    this.#inDialog.awaitAck(call, a, st, out);
  }

  #finalToCaller(call: Call, res: SipResponse): void {
    const st = call.a.inviteServer;
    if (st === undefined || st.finalSent) return;
    st.respond(res);
    call.finalStatus = res.status;
    // The caller has its answer: from here the ACK wait (2xx) or the transaction (failure) times it.
    this.opts.timers.clearTimeout(call.setupGuard);
    call.setupGuard = undefined;
    const cls = Math.floor(res.status / 100);
    if (cls >= 1 && cls <= 6) this.counters.finalByClass[cls]! += 1;
    this.#forgetPendingInvite(call);
  }

  #forgetPendingInvite(call: Call): void {
    if (call.mergeKey === undefined) return;
    this.#pendingInvites.delete(call.mergeKey);
    call.mergeKey = undefined;
  }

  #callOfInvite(invite: ServerTransaction): Call | undefined {
    const call = this.#callByInvite.get(invite);
    return call === undefined || call.ended ? undefined : call;
  }

  // ---- Teardown ----

  /**
   * Ends a call (idempotent): a final `callerStatus` to the caller if it has none yet, CANCEL to
   * an unanswered callee, BYE to every confirmed dialog except the one that hung up, then every
   * timer and table entry of the call released.
   */
  endCall(call: Call, reason: EndReason, callerStatus = 500, callerReason?: string, callerHeaders: readonly SipHeader[] = [], byeExcept?: Leg): void {
    if (call.ended) return;
    const { a, b } = call;
    const byeReason: SipHeader[] = reasonHeader(reason);
    // Caller side.
    const st = a.inviteServer;
    if (st !== undefined && !st.finalSent && a.dialog !== undefined) {
      const res = createResponse(st.request, callerStatus, {
        toTag: a.dialog.localTag,
        ...(callerReason === undefined ? {} : { reason: callerReason }),
        headers: callerHeaders,
      });
      this.#finalToCaller(call, res);
      if (callerStatus >= 300) this.counters.callsFailed++;
    } else if (a.dialog?.state === 'confirmed' && byeExcept !== a) {
      this.#inDialog.sendBye(a, byeReason);
    }
    // Callee side.
    const ict = call.calleeInvite;
    if (b.dialog?.state === 'confirmed') {
      if (byeExcept !== b) {
        // An ACK still owed must go first, or the callee keeps retransmitting its 2xx.
        if (b.owedAck !== undefined && b.owedAck.ack === undefined) this.#inDialog.sendOwedAck(b, EMPTY_BODY, undefined);
        this.#inDialog.sendBye(b, byeReason);
      }
    } else if (ict !== undefined && ict.state !== 'terminated' && ict.state !== 'completed' && ict.state !== 'accepted') {
      this.tx.cancel(ict, byeReason);
    }
    this.opts.timers.clearTimeout(call.setupGuard);
    call.setupGuard = undefined;
    call.transition('ending');
    call.transition('ended');
    call.endedMs = this.opts.clock.monoMs();
    call.endReason = reason;
    this.#forgetPendingInvite(call);
    if (a.dialog !== undefined) this.dialogs.delete(a.dialog.key);
    if (a.inviteServer !== undefined) this.#callByInvite.delete(a.inviteServer);
    if (call.calleeHandle !== undefined) call.calleeHandle.call = undefined;
    if (b.dialog !== undefined) this.dialogs.delete(b.dialog.key);
    a.close();
    b.close();
    void (call.media?.close() ?? Promise.resolve(undefined)).then((record) => this.opts.events?.emit({ type: 'quality', call: call.summary(), record }));
    this.calls.delete(call.id);
    this.counters.callsEnded++;
    this.opts.events?.emit({ type: 'ended', call: call.summary(), reason, status: call.finalStatus });
    this.opts.logger.debug(
      {
        call: call.id,
        reason,
        status: call.finalStatus,
        durationMs: Math.round((call.endedMs ?? 0) - (call.answeredMs ?? call.endedMs ?? 0)),
        setupMs: call.answeredMs === undefined ? undefined : Math.round(call.answeredMs - call.startedMs),
      },
      'call ended',
    );
  }

  /** Answers a request statelessly-in-transaction with a refusal and counts it. */
  refuse(tx: ServerTransaction, r: Refusal): void {
    this.counters.rejectedRequests++;
    const opts: { toTag: string; reason?: string; headers?: readonly SipHeader[] } = { toTag: this.opts.random.token(10) };
    if (r.reason !== undefined) opts.reason = r.reason;
    if (r.headers !== undefined) opts.headers = r.headers;
    tx.respond(createResponse(tx.request, r.status, opts));
  }

  /**
   * Stops taking new calls and hangs up every live one (SIGTERM). Resolves once no transaction
   * is left or `deadlineMs` passes.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.#draining = true;
    for (const call of [...this.calls.values()]) this.endCall(call, 'shutdown', 503);
    const until = this.opts.clock.monoMs() + deadlineMs;
    while (this.opts.clock.monoMs() < until) {
      const c = this.tx.counts();
      if (c.client === 0) return;
      await new Promise<void>((resolve) => this.opts.timers.setTimeout(resolve, 50));
    }
  }

  stats(): { calls: number; dialogs: number } {
    return { calls: this.calls.size, dialogs: this.dialogs.size };
  }
}

export { dialogKey };
export type { B2buaCounters, CalleeHandle, DialogEntry };
