import type { HeaderField, LegWire } from '../../common/call-leg.ts';
import type { CallId } from '../../common/ids.ts';
import type { TrunkCall } from '../routing/route.ts';

/**
 * What the rest of Carillon learns about a call: an immutable summary taken when something
 * happened to it (CallEvents), never the live call. Metrics, CDRs, SIP message logs and
 * streaming read only this, so signaling may change its call objects without them noticing,
 * and a summary held on to keeps nothing of the call alive.
 */

export type { HeaderField };

export type LegRoleName = 'caller' | 'callee';

/** A leg of a call: its role there, and what its wire knows it by (LegWire). */
export interface LegSummary extends LegWire {
  readonly role: LegRoleName;
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
