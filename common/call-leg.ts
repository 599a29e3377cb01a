/**
 * The protocol-neutral half of a call leg: what a call asks of a leg and what a leg tells its
 * call, whatever the leg speaks (SIP now; H.323 and WebRTC next). A call never sees a SIP message:
 * it sees session descriptions (SDP bodies, offer/answer), progress, answers, refusals and
 * hang-ups, statuses in SIP's numbering (the lingua franca every protocol maps to, RFC 3398 for
 * Q.931), and header fields that may cross between two legs of the same protocol.
 */

import type { DtmfDigit } from './dtmf-digit.ts';

/** A header field as a leg's signaling carries it (lower-case name). */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** Who is calling, as a leg asserts it on its side (RFC 3325 identity, RFC 3323 privacy). */
export interface PartyIdentity {
  readonly user: string;
  readonly displayName?: string;
  readonly anonymous: boolean;
}

/** A session description (SDP, or a multipart body holding one) with its content type. */
export interface SessionBody {
  readonly contentType: string;
  readonly bytes: Buffer;
}

/** Why Carillon ends a leg, as a status and a phrase (SIP: Reason: SIP;cause=…;text=…). */
export interface HangupCause {
  readonly status: number;
  readonly text: string;
}

/** Why a leg ended (a bounded set: metric labels and summaries). */
export type LegEndReason =
  | 'peer-hangup'
  | 'peer-cancel'
  | 'timeout'
  | 'transport-error'
  | 'ack-timeout'
  | 'session-expired'
  | 'refresh-failed';

/** How a leg Carillon placed failed before it was answered. */
export interface LegFailure {
  /** 'rejected': a final answer ≥ 300; 'timeout': none came; 'transport': it could not be sent; 'unusable': an answer Carillon cannot go on with (not worth another place). */
  readonly kind: 'rejected' | 'timeout' | 'transport' | 'unusable';
  /** The status the call's other side should hear (SIP numbering). */
  readonly status: number;
  readonly reason: string | undefined;
  /** Fields of the refusal that may cross to another leg of the same protocol. */
  readonly crossing: readonly HeaderField[];
}

/** The final answer the peer gave to an offer or request Carillon sent on a leg. */
export interface OfferOutcome {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: SessionBody | undefined;
  readonly crossing: readonly HeaderField[];
  /** Set when no answer came ('timeout', RFC 3261 §8.1.3.1: a 408) or the request could not be sent ('transport': a 503). */
  readonly failure?: 'timeout' | 'transport';
}

/** A refusal of an offer or a request. */
export interface Refusal {
  readonly status: number;
  readonly reason?: string | undefined;
  readonly headers?: readonly HeaderField[] | undefined;
}

/**
 * An offer the peer made inside an established session (SIP re-INVITE or UPDATE), or a request
 * to pass on (INFO, MESSAGE, NOTIFY, REFER, OPTIONS). The call answers it exactly once.
 */
export interface PeerOffer {
  /** The signaling method that carried it ('INVITE', 'UPDATE'…), for events and logs. */
  readonly method: string;
  readonly body: SessionBody | undefined;
  readonly crossing: readonly HeaderField[];
  /** The request's own fields as they came (events quote them). */
  readonly fields: readonly HeaderField[];
  /** How many more hops it may take (SIP Max-Forwards − 1). */
  readonly hopsLeft: number;
  /** The other side's answer, or its refusal (a provisional first, when it sends one). */
  answer(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[]): void;
  refuse(r: Refusal): void;
}

/** An in-dialog request that is not an offer: the other leg's response answers it. */
export interface PeerRequest {
  readonly method: string;
  readonly body: SessionBody | undefined;
  /**
   * The key press the request carries, when it is one (SIP: INFO with application/dtmf-relay or
   * application/dtmf): a call that listens for digits takes it (and answers 200); a call joining
   * two legs passes the request on as it came.
   */
  readonly dtmf?: { readonly digit: DtmfDigit; readonly durationMs: number } | undefined;
  readonly crossing: readonly HeaderField[];
  /** How many more hops it may take (SIP Max-Forwards − 1). */
  readonly hopsLeft: number;
  respond(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[]): void;
}

/** What a leg tells the call it belongs to. */
export interface LegEvents {
  /**
   * A provisional answer from a leg Carillon placed (180, 183…), with its early description;
   * `reliably`: the peer sent it reliably (SIP 100rel), so the call's other side should get it so too.
   */
  progress(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], reliably: boolean): void;
  /** The leg Carillon placed was answered; `body` answers Carillon's offer (or offers, when it made none). */
  answered(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[]): void;
  /** The leg Carillon placed failed before an answer. */
  failed(f: LegFailure): void;
  /** The peer confirmed Carillon's answer (SIP ACK); `body` is its answer when Carillon's 2xx carried the offer. */
  confirmed(body: SessionBody | undefined): void;
  /** A new offer in the established session; nothing moves until the call answers it. */
  reoffer(offer: PeerOffer): void;
  /** A request to pass on to the other side. */
  request(req: PeerRequest): void;
  /** The peer's answer to a session refresh moved its media (learn it; nothing crosses). */
  refreshed(body: SessionBody): void;
  /** The leg is over (the peer hung up or the leg died): the call decides what else ends. */
  ended(reason: LegEndReason, status?: number): void;
}

/** The signaling protocols a leg can speak. */
export type LegProtocol = 'sip' | 'h323';

/** What a leg says of itself on its wire (call summaries name it so). */
export interface LegWire {
  readonly protocol: LegProtocol;
  /** Transport its signaling runs on. */
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** The leg's own call identifier on the wire (a SIP Call-ID; an H.323 callIdentifier GUID in hex). */
  readonly wireCallId: string;
  /** Where the leg's peer takes requests (its Contact), once known. */
  readonly remoteTarget: string | undefined;
  /** The fields of the request that set the leg up (received or sent), frozen. */
  readonly setupHeaders: readonly HeaderField[];
}

/** How Carillon presents itself when it answers a call (SIP: a Contact feature tag). */
export type AnswerRole = 'call' | 'recording-server';

/**
 * The content floor of a leg whose protocol has one of its own (H.323: the H.239 presentation
 * token): the meeting decides who presents, the leg speaks its protocol. Carillon is the token
 * manager; one request is pending at a time (another while one waits is refused at once).
 */
export interface PresentationPort {
  /**
   * The peer asks to present (H.239 presentationTokenRequest): the meeting answers through `grant`,
   * once (later calls, and calls after the request was overtaken or the call ended, do nothing).
   * Undefined: every request is refused.
   */
  onRequest: ((grant: (granted: boolean) => void) => void) | undefined;
  /**
   * The peer released the token (presentationTokenRelease) or its call ended, while it held the token
   * or waited for the meeting's answer (the pending grant then does nothing).
   */
  onRelease: (() => void) | undefined;
  /**
   * Carillon takes the token back (another participant now presents): H.239's token-manager
   * withdrawal, a presentationTokenRequest to the holder (which answers it and stops presenting).
   * `holding` is false at once; onRelease does not fire for it. Nothing when the peer holds nothing.
   */
  revoke(): void;
  /** Whether the peer holds the token now. */
  readonly holding: boolean;
}

/** What a call asks of a leg. Each leg implements it for its protocol. */
export interface CallLegControl {
  readonly protocol: LegProtocol;
  /** Where the leg tells its call what happens (set by the call that owns the leg). */
  events: LegEvents;
  /** The leg as its wire knows it. */
  wire(): LegWire;
  /** Whether the peer can take provisional answers reliably (SIP 100rel). */
  readonly reliableProgress: boolean;
  /** Whether the peer is reached over a secure transport (SIP over TLS). */
  readonly secureSignaling: boolean;
  /** A provisional answer to the peer's call (the caller's leg); `reliably`: ask for it to be acknowledged (SIP 100rel) if the peer can. */
  progress(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], reliably?: boolean): void;
  /** The final answer to the peer's call: ≥ 300 refuses it, 2xx answers it with `body` (as `role`, default 'call'). */
  answer(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], role?: AnswerRole): void;
  /**
   * Ends the leg: CANCEL while the leg Carillon placed rings, BYE once established, nothing after;
   * `cause` says why when it is Carillon's own doing (SIP Reason, RFC 3326).
   */
  hangup(cause: HangupCause | undefined): void;
  /** Carillon's ACK (or equivalent) for the leg's answer, with the late offer's answer when it owes one. */
  confirm(body: SessionBody | undefined): void;
  /** Whether an offer is being negotiated on this leg either way (another now would cross it). */
  readonly negotiating: boolean;
  /** Whether the leg's session is established. */
  readonly confirmed: boolean;
  /** A new offer toward the peer (the other side's re-INVITE/UPDATE), answered through `done`. */
  reoffer(method: string, body: SessionBody | undefined, crossing: readonly HeaderField[], hopsLeft: number, done: (o: OfferOutcome) => void): void;
  /** Passes a request on to the peer; its answer through `done`. */
  relay(method: string, body: SessionBody | undefined, crossing: readonly HeaderField[], hopsLeft: number, done: (o: OfferOutcome) => void): void;
  /** The peer's session timers (re)start after a successful offer/answer. */
  sessionUpdated(): void;
  /** Releases every timer and table entry. Idempotent. */
  close(): void;
  /** The leg's content floor, when its protocol has one (H.323 H.239); SIP legs leave it undefined (BFCP is the meeting's). */
  readonly presentation?: PresentationPort;
}

/** What a leg Carillon places is asked to set up (the other side's request, as far as it crosses). */
export interface LegSetup {
  /** The fields of the request that started the call on the other side (From, To, Max-Forwards and those that cross). */
  readonly origin: readonly HeaderField[];
  /** The identity Carillon asserts for the caller (a trunk's caller ID and calling name), if any. */
  readonly caller: PartyIdentity | undefined;
  /** Carillon's offer for this leg, or none for a late offer. */
  readonly offer: SessionBody | undefined;
  /** Offer reliable provisionals: the other side can take them. */
  readonly offerReliable: boolean;
  /** Credentials for the peer's challenges (a carrier's). */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  /** The leg's call identifier on its wire, chosen before it is placed and kept across failover. */
  readonly wireCallId: string;
}

/** One place a leg can be tried at (a located hop): placing it opens the leg and sends its request. */
export interface PlacementAttempt {
  /** undefined: Carillon cannot send on the hop's transport. */
  place(setup: LegSetup, events: LegEvents): CallLegControl | undefined;
}

/** Where a next hop's leg may be placed, in order; or why it cannot be. */
export type Placement =
  | { readonly ok: true; readonly attempts: readonly PlacementAttempt[] }
  | { readonly ok: false; readonly status: number; readonly reason: string; readonly retryAfterSec?: number };
