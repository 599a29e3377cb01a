import { dialogKey } from '../dialog/dialog.ts';
import { getHeader } from '../message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';
import type { TransactionLayer } from '../transaction/transaction-layer.ts';
import type { ServerTransaction, TransactionUser } from '../transaction/types.ts';
import type { Destination, Source, TransportName } from '../transport/types.ts';
import { ACCEPT_VALUE, ALLOW_VALUE, capabilitiesAnswer, KNOWN_NOT_ALLOWED, RELAYED_IN_DIALOG } from './header-policy.ts';
import { checkMaxForwards, checkOwnLoop, checkRequire, checkSessionInterval } from './request-checks.ts';
import type { Refusal } from './request-checks.ts';
import { createResponse } from './responses.ts';
import { SipCalleeLeg } from './sip-callee-leg.ts';
import { SipCallerLeg } from './sip-caller-leg.ts';
import type { SipLeg, SipLegDeps } from './sip-leg.ts';
import { contactUri, cseqOf, fromTagOf, toTagOf } from './sip-util.ts';

/**
 * The SIP user agent: the transaction user of the transaction layer. It keeps every leg's dialog
 * by Call-ID and local tag and hands each in-dialog request, ACK and CANCEL to its leg; answers
 * what is Carillon's own to answer (OPTIONS, methods out of a dialog, malformed or looping
 * INVITEs); and turns every acceptable new INVITE into a caller's leg for whoever takes calls.
 */

/** A new INVITE Carillon may take: its caller's leg (the dialog is open, nothing answered but 100). */
export interface IncomingInvite {
  readonly leg: SipCallerLeg;
  /** The INVITE and where it came from, for the layer that turns it into a routing request. */
  readonly request: SipRequest;
  readonly source: Source;
}

/** What the user agent is made with: what its legs need (but the tables it keeps itself), and its own hooks. */
export interface SipUserAgentOptions extends Omit<SipLegDeps, 'tx' | 'dialogs'> {
  /** Told of every out-of-dialog OPTIONS (a trunk's keepalive: termination health). */
  readonly onOptions?: ((req: SipRequest, source: Source) => void) | undefined;
}

/** Counters read at scrape time (STYLE.md 13). */
export interface SipUserAgentCounters {
  rejectedRequests: number;
  strayResponses: number;
}

export class SipUserAgent implements TransactionUser {
  readonly opts: SipUserAgentOptions;
  readonly #dialogs = new Map<string, SipLeg>();
  /** Caller INVITEs still waiting for a final answer, by Call-ID/From-tag/CSeq (merged-request check). */
  readonly #pendingInvites = new Map<string, SipCallerLeg>();
  readonly #callerOfInvite = new WeakMap<ServerTransaction, SipCallerLeg>();
  readonly counters: SipUserAgentCounters = { rejectedRequests: 0, strayResponses: 0 };
  /** Carillon's own sent-by values ('host:port') for loop detection. */
  readonly ownSentBy = new Set<string>();
  /** Who takes new calls (the call layer); absent: every INVITE is refused with 503. */
  onInvite: ((incoming: IncomingInvite) => void) | undefined;
  #tx: TransactionLayer | undefined;
  readonly #legDeps: SipLegDeps;

  constructor(opts: SipUserAgentOptions) {
    this.opts = opts;
    this.#legDeps = {
      hub: opts.hub,
      tx: () => this.tx,
      timers: opts.timers,
      clock: opts.clock,
      random: opts.random,
      t1Ms: opts.t1Ms,
      t2Ms: opts.t2Ms,
      sessionExpiresSec: opts.sessionExpiresSec,
      minSeSec: opts.minSeSec,
      dialogs: { add: (key, leg) => void this.#dialogs.set(key, leg), delete: (key) => void this.#dialogs.delete(key) },
    };
  }

  /** Wires the transaction layer (which is built with this user agent as its user). */
  attach(tx: TransactionLayer): void {
    this.#tx = tx;
  }

  get tx(): TransactionLayer {
    const tx = this.#tx;
    if (tx === undefined) throw new Error('SIP user agent used before attach()');
    return tx;
  }

  /** Carillon's Contact for a transport. */
  contactFor(transport: TransportName): string | undefined {
    const local = this.opts.hub.local(transport);
    if (local === undefined) return undefined;
    return `<sip:${local.address}:${local.port};transport=${transport}>`;
  }

  /** A callee's leg Carillon is about to place (its INVITE goes out with place()). */
  calleeLeg(transport: TransportName, wireCallId: string): SipCalleeLeg | undefined {
    const contact = this.contactFor(transport);
    return contact === undefined ? undefined : new SipCalleeLeg(this.#legDeps, transport, contact, wireCallId);
  }

  /** A fresh Call-ID for a leg Carillon places. */
  newCallId(): string {
    return this.opts.random.token(20);
  }

  get dialogCount(): number {
    return this.#dialogs.size;
  }

  // ---- TransactionUser ----

  onRequest(tx: ServerTransaction): void {
    const req = tx.request;
    const toTag = toTagOf(req);
    if (toTag !== undefined) {
      const leg = this.#dialogs.get(dialogKey(getHeader(req, 'call-id') ?? '', toTag));
      return leg === undefined ? this.refuse(tx, { status: 481 }) : leg.onRequest(tx);
    }
    const refusal = checkRequire(req);
    if (refusal !== undefined) return this.refuse(tx, refusal);
    switch (req.method) {
      case 'INVITE':
        return this.#onInvite(tx);
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
        if (KNOWN_NOT_ALLOWED.has(req.method) || RELAYED_IN_DIALOG.has(req.method)) return this.refuse(tx, { status: 405, headers: [{ name: 'allow', value: ALLOW_VALUE }] });
        // RFC 3261 §21.5.2: 501 for a method the server does not recognise.
        return this.refuse(tx, { status: 501, headers: [{ name: 'allow', value: ALLOW_VALUE }] });
    }
  }

  onAck(ack: SipRequest, _source: Source): void {
    const to = getHeader(ack, 'to');
    const tag = to === undefined ? undefined : /;\s*tag\s*=\s*([^;\s>]+)/i.exec(to.slice(Math.max(0, to.lastIndexOf('>'))))?.[1];
    if (tag === undefined) return;
    this.#dialogs.get(dialogKey(getHeader(ack, 'call-id') ?? '', tag))?.onAck(ack);
  }

  onCancel(invite: ServerTransaction, _cancel: SipRequest): void {
    const leg = this.#callerOfInvite.get(invite);
    if (leg === undefined || leg.closed) {
      if (!invite.finalSent) invite.respond(createResponse(invite.request, 487, { toTag: this.opts.random.token(10) }));
      return;
    }
    if (!invite.finalSent) leg.events.ended('peer-cancel');
  }

  onStrayResponse(_res: SipResponse, _source: Source): void {
    this.counters.strayResponses++;
  }

  /**
   * The caller's INVITE transaction could not deliver a response (its TCP connection went, its
   * Via named no usable address): nothing more reaches the caller, so its leg ends.
   */
  onServerTransportError(invite: ServerTransaction): void {
    const leg = this.#callerOfInvite.get(invite);
    if (leg !== undefined && !leg.closed) leg.events.ended('transport-error');
  }

  // ---- New calls ----

  #onInvite(tx: ServerTransaction): void {
    const req = tx.request;
    const refusal = checkMaxForwards(req) ?? checkOwnLoop(req, this.ownSentBy) ?? checkSessionInterval(req, this.opts.minSeSec);
    if (refusal !== undefined) return this.refuse(tx, refusal);
    const cseq = cseqOf(req);
    const callId = getHeader(req, 'call-id');
    if (cseq === undefined || callId === undefined) return this.refuse(tx, { status: 400, reason: 'Bad CSeq or Call-ID' });
    if (contactUri(req) === undefined) return this.refuse(tx, { status: 400, reason: 'Missing Contact' });
    // RFC 3261 §8.2.2.2: the same request arriving again by another path (merged) → 482.
    const mergeKey = `${callId}\u0000${fromTagOf(req) ?? ''}\u0000${cseq.seq}`;
    if (this.#pendingInvites.has(mergeKey)) return this.refuse(tx, { status: 482, reason: 'Merged Request' });
    // Carillon anchors sessions it can describe: SDP, alone or inside multipart (SIPREC). RFC 3261 §21.4.16.
    const contentType = (getHeader(req, 'content-type') ?? '').toLowerCase();
    if (req.body.length > 0 && !contentType.startsWith('application/sdp') && !contentType.startsWith('multipart/')) return this.refuse(tx, { status: 415, headers: [{ name: 'accept', value: ACCEPT_VALUE }] });
    const contact = this.contactFor(tx.source.transport);
    const take = this.onInvite;
    if (contact === undefined || take === undefined) return this.refuse(tx, { status: 503, reason: 'Transport Unavailable' });
    const leg = new SipCallerLeg(this.#legDeps, tx, contact);
    this.#callerOfInvite.set(tx, leg);
    this.#pendingInvites.set(mergeKey, leg);
    leg.onFinal = () => this.#pendingInvites.delete(mergeKey);
    take({ leg, request: req, source: tx.source });
  }

  /** Answers a request with a refusal and counts it. */
  refuse(tx: ServerTransaction, r: Refusal): void {
    this.counters.rejectedRequests++;
    tx.respond(createResponse(tx.request, r.status, { toTag: this.opts.random.token(10), ...(r.reason === undefined ? {} : { reason: r.reason }), headers: r.headers ?? ([] as SipHeader[]) }));
  }

  /** Sends a request outside any dialog and forgets its answer (a recording session's BYE, a stray's hang-up). */
  sendRequest(req: SipRequest, dest: Destination): void {
    this.tx.sendRequest(req, dest, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
  }
}
