import type { CallId } from '../../common/ids.ts';
import type { TrunkCall } from '../routing/route.ts';

/**
 * What the rest of Carillon learns about a call: an immutable summary taken when something
 * happened to it (CallEvents), never the live call. Metrics, CDRs, SIP message logs and
 * streaming read only this, so signaling may change its call objects without them noticing,
 * and a summary held on to keeps nothing of the call alive.
 */

/** A header field as a leg's signaling carried it (SIP header name, lower-case, and value). */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

export type LegRoleName = 'caller' | 'callee';

export interface LegSummary {
  readonly role: LegRoleName;
  /** The signaling protocol of the leg. */
  readonly protocol: 'sip';
  /** Transport its signaling runs on. */
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** The leg's own call identifier on the wire (its SIP Call-ID), once it has one. */
  readonly wireCallId: string | undefined;
  /** Where the leg's peer takes requests (its Contact), once known. */
  readonly remoteTarget: string | undefined;
  /** The fields of the request that set the leg up (the INVITE received or sent), frozen. */
  readonly setupHeaders: readonly HeaderField[];
}

export interface CallSummary {
  /** Carillon's id of the call (also its media session's). */
  readonly id: CallId;
  /** The call's transaction id (CDRs, streaming events and MKV tags name the call by it). */
  readonly transactionId: string;
  /** The voice connector call it is, when it is one. */
  readonly trunk: TrunkCall | undefined;
  /** The call's legs, the caller's first. */
  readonly legs: readonly LegSummary[];
  /** Targets tried so far (the current one included). */
  readonly attempts: number;
  /** Monotonic ms: the call's start, answer (if any) and end (once ended). */
  readonly startedMs: number;
  readonly answeredMs: number | undefined;
  readonly endedMs: number | undefined;
  /** The final status the caller received, once it has one. */
  readonly finalStatus: number | undefined;
}

/** A frozen copy of a header list (the request's own list keeps changing: Vias are added to it). */
export function frozenHeaders(headers: readonly HeaderField[]): readonly HeaderField[] {
  return Object.freeze(headers.map((h) => Object.freeze({ name: h.name, value: h.value })));
}

/** The leg of a summary in a role, when it has one. */
export function legOf(call: CallSummary, role: LegRoleName): LegSummary | undefined {
  return call.legs.find((l) => l.role === role);
}
