import { randomUUID } from 'node:crypto';
import type { CallId } from '../../common/ids.ts';
import type { TimerHandle, Timers } from '../../common/clock.ts';
import type { Dialog } from '../sip/dialog/dialog.ts';
import { SessionTimer } from '../sip/dialog/session-timer.ts';
import type { SipHeader, SipRequest } from '../sip/message/types.ts';
import type { ClientTransaction, ServerTransaction } from '../sip/transaction/types.ts';
import type { Destination, TransportName } from '../sip/transport/types.ts';
import { Retransmitter } from '../sip/ua/retransmitter.ts';
import type { PartyIdentity } from '../../common/call-leg.ts';
import type { NextHop, TrunkCall, UpstreamCredentials } from '../routing/route.ts';
import type { CallMedia } from './call-media.ts';
import type { CallSummary, HeaderField, LegRoleName, LegSummary } from './call-summary.ts';

/**
 * A call's life (STYLE.md 5). routing: Carillon is choosing where the call goes; calling: the
 * outbound INVITE is out; early: a provisional with a tag came back; answered: the callee's 2xx
 * was sent to the caller, ACK pending; confirmed: both dialogs are up; ending: the call is being
 * torn down (CANCEL or BYE out); ended: nothing left.
 */
export type CallState = 'routing' | 'calling' | 'early' | 'answered' | 'confirmed' | 'ending' | 'ended';

export const CALL_TRANSITIONS = {
  routing: ['calling', 'ending', 'ended'],
  calling: ['early', 'answered', 'ending', 'ended'],
  early: ['answered', 'ending', 'ended'],
  answered: ['confirmed', 'ending', 'ended'],
  confirmed: ['ending', 'ended'],
  ending: ['ended'],
  ended: [],
} as const satisfies Record<CallState, readonly CallState[]>;

/** Why a call ended: a bounded set, used as a metric label and in the call summary. */
export type EndReason =
  | 'caller-bye'
  | 'callee-bye'
  | 'caller-cancel'
  | 'rejected'
  | 'no-route'
  | 'timeout'
  | 'transport-error'
  | 'ack-timeout'
  | 'session-expired'
  | 'refresh-failed'
  | 'shutdown'
  | 'media-timeout'
  | 'media-unavailable'
  | 'internal-error';

export type LegRole = 'uas' | 'uac';

/** An INVITE (initial or re-INVITE) this leg sent and whose 2xx needs an ACK from us. */
export interface OwedAck {
  readonly cseq: number;
  ack: SipRequest | undefined;
  destination: Destination | undefined;
}

/**
 * One side of a call: the caller's leg (Carillon is UAS) or the callee's (Carillon is UAC).
 * Owns its dialog, its retransmission timers and its session timer; Call.close() releases them.
 */
export class Leg {
  readonly role: LegRole;
  readonly transport: TransportName;
  /** Carillon's Contact on this leg. */
  readonly contact: string;
  dialog: Dialog | undefined;
  /** Peer advertised (or required) these (RFC 3262, RFC 4028, RFC 3311). */
  supports100rel = false;
  requires100rel = false;
  supportsTimer = false;
  allowsUpdate = false;
  /** The INVITE server transaction currently open on this leg (caller's initial or a re-INVITE). */
  inviteServer: ServerTransaction | undefined;
  /** The INVITE client transaction currently open on this leg. */
  inviteClient: ClientTransaction | undefined;
  /** Our 2xx to this peer that waits for its ACK (§13.3.1.4). */
  readonly ackWait: Retransmitter;
  /** CSeq number of the INVITE whose 2xx awaits the peer's ACK. */
  ackWaitCseq: number | undefined;
  /** ACK we owe this peer for a 2xx it sent us (sent once the other side ACKs). */
  owedAck: OwedAck | undefined;
  /** RSeq of the last reliable provisional sent on this leg (RFC 3262 §7.1). */
  rseq = 0;
  /** Reliable provisional waiting for PRACK. */
  readonly prackWait: Retransmitter;
  prackWaitRseq: number | undefined;
  /** The provisional waiting for PRACK carried a session description (no 2xx until it is PRACKed). */
  prackWaitHasSdp = false;
  /** A 2xx held back until the PRACK comes (RFC 3262 §3). */
  afterPrack: (() => void) | undefined;
  /** Last session description Carillon sent on this leg (session refresh re-INVITEs reuse it). */
  lastSdp: Buffer | undefined;
  lastContentType: string | undefined;
  readonly sessionTimer: SessionTimer;
  /** Session interval agreed on this leg, 0 when no session timer runs. */
  sessionIntervalSec = 0;
  /** Whether Carillon refreshes this leg (else the peer does). */
  localRefresher = false;
  /** The fields of the INVITE that set this leg up (received from the caller, or sent to the callee), frozen. */
  setupHeaders: readonly HeaderField[] = [];

  /**
   * The leg's SIP Call-ID: the caller's own for its leg; chosen by Carillon for a callee leg before
   * its INVITE goes out, and kept by the legs that replace it on failover (each with a fresh From
   * tag, as a forking proxy would), so the call's summary names every Call-ID it will ever use.
   */
  readonly wireCallId: string;

  constructor(role: LegRole, transport: TransportName, contact: string, timers: Timers, t1Ms: number, t2Ms: number, wireCallId: string) {
    this.role = role;
    this.wireCallId = wireCallId;
    this.transport = transport;
    this.contact = contact;
    this.ackWait = new Retransmitter(timers, t1Ms, t2Ms);
    this.prackWait = new Retransmitter(timers, t1Ms, t2Ms);
    this.sessionTimer = new SessionTimer(timers);
  }

  /** Stops every timer this leg owns. Idempotent. */
  close(): void {
    this.ackWait.stop();
    this.prackWait.stop();
    this.afterPrack = undefined;
    this.sessionTimer.stop();
    this.inviteClient = undefined;
    this.inviteServer = undefined;
    this.dialog?.transition('terminated');
  }
}

/** One call: the caller's leg `a` and the callee's leg `b`. */
export class Call {
  readonly id: CallId;
  readonly a: Leg;
  /** The callee leg; replaced by a fresh one when the call fails over to the next target. */
  b: Leg;
  readonly startedMs: number;
  answeredMs: number | undefined;
  endedMs: number | undefined;
  endReason: EndReason | undefined;
  /** Final status the caller received (for the summary line and metrics). */
  finalStatus: number | undefined;
  /** The caller's original INVITE. */
  readonly invite: SipRequest;
  /** The INVITE client transaction that sets up the callee leg (replaced on a 422 retry). */
  calleeInvite: ClientTransaction | undefined;
  /** The callee INVITE transaction's hold on this call (released when the call ends). */
  calleeHandle: { call: Call | undefined } | undefined;
  /** Ends a call still unanswered this long after its latest callee attempt, whatever its transactions did. */
  setupGuard: TimerHandle | undefined;
  /** Anchored media of the call (absent when media anchoring is off). */
  media: CallMedia | undefined;
  /** The caller's offer as rewritten for the callee (sent again on a 422 retry). */
  calleeOfferBody: Buffer | undefined;
  /** Merged-request key of the caller's INVITE while it waits for its final response. */
  mergeKey: string | undefined;
  /** The voice connector call this is (absent for calls on static routes). */
  trunk: TrunkCall | undefined;
  /** Targets still to try, with their voice connector where it changes (group failover). */
  alternates: NextHop[] = [];
  /** Caller identity for the callee leg's From (caller ID, calling name). */
  caller: PartyIdentity | undefined;
  /** Targets tried so far (the current one included). */
  attempts = 0;
  /** Credentials for the current target's digest challenge, and whether it was answered already. */
  credentials: UpstreamCredentials | undefined;
  challengeAnswered = false;
  /** The call's transaction id (CDRs, streaming events and MKV tags name the call by it). */
  readonly transactionId: string = randomUUID();
  #state: CallState = 'routing';

  constructor(id: CallId, invite: SipRequest, a: Leg, b: Leg, startedMs: number) {
    this.id = id;
    this.invite = invite;
    this.a = a;
    this.b = b;
    this.startedMs = startedMs;
  }

  get state(): CallState {
    return this.#state;
  }

  /** Moves to `to` when legal; returns false (and stays) when not. */
  transition(to: CallState): boolean {
    if (this.#state === to) return true;
    const legal: readonly CallState[] = CALL_TRANSITIONS[this.#state];
    if (!legal.includes(to)) return false;
    this.#state = to;
    return true;
  }

  other(leg: Leg): Leg {
    return leg === this.a ? this.b : this.a;
  }

  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** What the call is now, as the rest of Carillon may know it (CallEvents carry this, never the call). */
  summary(): CallSummary {
    return Object.freeze({
      id: this.id,
      transactionId: this.transactionId,
      trunk: this.trunk,
      legs: Object.freeze([legSummary(this.a, 'caller'), legSummary(this.b, 'callee')]),
      attempts: this.attempts,
      startedMs: this.startedMs,
      answeredMs: this.answeredMs,
      endedMs: this.endedMs,
      finalStatus: this.finalStatus,
    });
  }
}

function legSummary(leg: Leg, role: LegRoleName): LegSummary {
  return Object.freeze({ role, protocol: 'sip', transport: leg.transport, wireCallId: leg.dialog?.callId ?? leg.wireCallId, remoteTarget: leg.dialog?.remoteTarget, setupHeaders: leg.setupHeaders });
}

/** Counters read at scrape time (STYLE.md 13). */
export interface B2buaCounters {
  callsStarted: number;
  callsAnswered: number;
  callsFailed: number;
  callsEnded: number;
  /** Final statuses sent to callers, by class (1xx unused). */
  finalByClass: [number, number, number, number, number, number, number];
  rejectedRequests: number;
  strayResponses: number;
}

/** What the callee INVITE's transaction keeps: the call while it lasts, and the callee leg. */
export interface CalleeHandle {
  call: Call | undefined;
  readonly b: Leg;
}

/** A dialog table entry: which call and which of its legs a dialog belongs to. */
export interface DialogEntry {
  readonly call: Call;
  readonly leg: Leg;
}


/** RFC 3326 Reason header for a BYE/CANCEL Carillon originates. */
export function reasonHeader(reason: EndReason): SipHeader[] {
  switch (reason) {
    case 'caller-bye':
    case 'callee-bye':
    case 'caller-cancel':
    case 'rejected':
    case 'no-route':
      return [];
    case 'timeout':
      return [{ name: 'reason', value: 'SIP;cause=408;text="Request Timeout"' }];
    case 'transport-error':
      return [{ name: 'reason', value: 'SIP;cause=503;text="Transport Failure"' }];
    case 'ack-timeout':
      return [{ name: 'reason', value: 'SIP;cause=408;text="ACK Timeout"' }];
    case 'session-expired':
      return [{ name: 'reason', value: 'SIP;cause=408;text="Session Timer Expired"' }];
    case 'refresh-failed':
      return [{ name: 'reason', value: 'SIP;cause=408;text="Session Refresh Failed"' }];
    case 'shutdown':
      return [{ name: 'reason', value: 'SIP;cause=503;text="Service Shutting Down"' }];
    case 'internal-error':
      return [{ name: 'reason', value: 'SIP;cause=500;text="Internal Error"' }];
    case 'media-timeout':
      return [{ name: 'reason', value: 'SIP;cause=408;text="Media Timeout"' }];
    case 'media-unavailable':
      return [{ name: 'reason', value: 'SIP;cause=503;text="Media Unavailable"' }];
    default: {
      const never: never = reason;
      return never;
    }
  }
}

