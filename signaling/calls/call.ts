import { randomUUID } from 'node:crypto';
import type { CallLegControl, HangupCause, SessionBody } from '../../common/call-leg.ts';
import type { CallId } from '../../common/ids.ts';
import type { TimerHandle } from '../../common/clock.ts';
import type { TrunkCall } from '../routing/route.ts';
import type { CallMedia } from './call-media.ts';
import type { CallSummary, LegRoleName, LegSummary } from './call-summary.ts';

/**
 * A call's life (STYLE.md 5). routing: Carillon is choosing where the call goes; calling: the
 * callee's leg is being placed; early: it gave a provisional answer; answered: its answer went
 * to the caller, whose confirmation is pending; confirmed: every leg is up; ending: the call is
 * being torn down; ended: nothing left.
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

/** One leg of a call, in the role it plays there. */
export interface CallParty {
  readonly role: LegRoleName;
  /** The leg; a callee's is replaced by a fresh one on failover. */
  leg: CallLegControl;
  /** The session description Carillon last sent this party. */
  sent: SessionBody | undefined;
}

/**
 * One call: N legs of any protocol, each behind CallLegControl (the caller's first). A two-party
 * trunk call has a caller and a callee; a recording session has only its caller, whose other end
 * is Carillon's recorder. The call holds no signaling state of its own.
 */
export class Call {
  readonly id: CallId;
  readonly parties: CallParty[] = [];
  readonly startedMs: number;
  answeredMs: number | undefined;
  endedMs: number | undefined;
  endReason: EndReason | undefined;
  /** Final status the caller received (for the summary line and metrics). */
  finalStatus: number | undefined;
  /** The caller's offer as it came (undefined: a late offer). */
  readonly offer: SessionBody | undefined;
  /** Ends a call still unanswered this long after its latest placement attempt, whatever its legs did. */
  setupGuard: TimerHandle | undefined;
  /** Anchored media of the call (absent when media anchoring is off). */
  media: CallMedia | undefined;
  /** The caller's offer as rewritten for the callee (placed again on failover). */
  calleeOffer: SessionBody | undefined;
  /** The callee's leg as its wire will know it, before (and between) placements. */
  calleeWire: { readonly wireCallId: string; readonly transport: 'udp' | 'tcp' | 'tls' } | undefined;
  /** The voice connector call this is (absent for calls on static routes). */
  trunk: TrunkCall | undefined;
  /** Placement attempts so far (the current one included). */
  attempts = 0;
  /** The call's transaction id (CDRs, streaming events and MKV tags name the call by it). */
  readonly transactionId: string = randomUUID();
  #state: CallState = 'routing';

  constructor(id: CallId, caller: CallLegControl, offer: SessionBody | undefined, startedMs: number) {
    this.id = id;
    this.parties.push({ role: 'caller', leg: caller, sent: undefined });
    this.offer = offer;
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

  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** The caller's party (always there). */
  get caller(): CallParty {
    return this.parties[0] as CallParty;
  }

  /** The party in `role`, when the call has one. */
  party(role: LegRoleName): CallParty | undefined {
    return this.parties.find((p) => p.role === role);
  }

  /** What the call is now, as the rest of Carillon may know it (CallEvents carry this, never the call). */
  summary(): CallSummary {
    return Object.freeze({
      id: this.id,
      transactionId: this.transactionId,
      trunk: this.trunk,
      legs: Object.freeze(this.#legSummaries()),
      attempts: this.attempts,
      startedMs: this.startedMs,
      answeredMs: this.answeredMs,
      endedMs: this.endedMs,
      finalStatus: this.finalStatus,
    });
  }

  #legSummaries(): LegSummary[] {
    const out = this.parties.map(legSummary);
    const pending = this.calleeWire;
    if (pending !== undefined && this.party('callee') === undefined) {
      out.push(Object.freeze({ role: 'callee', protocol: 'sip', transport: pending.transport, wireCallId: pending.wireCallId, remoteTarget: undefined, setupHeaders: [] }));
    }
    return out;
  }
}

function legSummary(p: CallParty): LegSummary {
  const w = p.leg.wire();
  return Object.freeze({ role: p.role, protocol: w.protocol, transport: w.transport, wireCallId: w.wireCallId, remoteTarget: w.remoteTarget, setupHeaders: w.setupHeaders });
}

/** The cause (RFC 3326 Reason on SIP) Carillon names when it ends a leg for `reason`; undefined when a peer ended it. */
export function hangupCause(reason: EndReason): HangupCause | undefined {
  switch (reason) {
    case 'caller-bye':
    case 'callee-bye':
    case 'caller-cancel':
    case 'rejected':
    case 'no-route':
      return undefined;
    case 'timeout':
      return { status: 408, text: 'Request Timeout' };
    case 'transport-error':
      return { status: 503, text: 'Transport Failure' };
    case 'ack-timeout':
      return { status: 408, text: 'ACK Timeout' };
    case 'session-expired':
      return { status: 408, text: 'Session Timer Expired' };
    case 'refresh-failed':
      return { status: 408, text: 'Session Refresh Failed' };
    case 'shutdown':
      return { status: 503, text: 'Service Shutting Down' };
    case 'internal-error':
      return { status: 500, text: 'Internal Error' };
    case 'media-timeout':
      return { status: 408, text: 'Media Timeout' };
    case 'media-unavailable':
      return { status: 503, text: 'Media Unavailable' };
    default: {
      const never: never = reason;
      return never;
    }
  }
}
