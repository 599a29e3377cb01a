import type { CallLegControl, SessionBody } from './call-leg.ts';
import type { RouteRequest } from './route.ts';

/**
 * A new call as an edge hands it to the call layer (trunk calls, the recorder): its caller's leg,
 * nothing answered yet, with what routing needs to know of it. Every protocol's edge makes these
 * (SIP: signaling/sip/ua/sip-intake.ts); the call layer takes them.
 */

/** A refusal of a new call, in the edge's terms to write. */
export interface CallRefusal {
  readonly status: number;
  readonly reason?: string | undefined;
  /** Ask for credentials for this realm (`stale`: the last ones were only out of date). */
  readonly challenge?: { readonly realm: string; readonly stale: boolean } | undefined;
  readonly retryAfterSec?: number | undefined;
}

/** A new call as an edge hands it over: its caller's leg (nothing answered yet) and what routing needs. */
export interface IncomingCall {
  readonly leg: CallLegControl;
  readonly route: RouteRequest;
  /** The caller's offer (undefined: a late offer). */
  readonly offer: SessionBody | undefined;
  /** The caller's own call identifier on its wire. */
  readonly wireCallId: string;
  /** The numbers the caller's request names (quality records of calls on no voice connector). */
  readonly fromUser: string | undefined;
  readonly toUser: string | undefined;
  /** Refuses the call before any leg of it is placed (counted by the edge). */
  refuse(r: CallRefusal): void;
}
