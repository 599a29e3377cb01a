import type { SessionBody } from '../../../common/call-leg.ts';
import type { RouteRequest } from '../../../common/route.ts';
import type { DigestAuth } from '../../auth/digest.ts';
import { getHeader } from '../message/headers.ts';
import type { SipRequest } from '../message/types.ts';
import type { Source } from '../transport/types.ts';
import type { SipCallerLeg } from './sip-caller-leg.ts';
import { dialedTargetOf, fromUserOf, refusalHeaders, routeRequestOfInvite } from './sip-routing.ts';
import { bodyOf } from './sip-util.ts';

/**
 * A new INVITE as the call layer takes it: the caller's leg, routing's neutral request
 * (sip-routing.ts), the offer and the numbers the request names, and how to refuse it in SIP.
 */

/** A refusal of a new call (routing's, or the call layer's own). */
export interface SipCallRefusal {
  readonly status: number;
  readonly reason?: string | undefined;
  readonly challenge?: { readonly realm: string; readonly stale: boolean } | undefined;
  readonly retryAfterSec?: number | undefined;
}

export interface SipIncomingCall {
  readonly leg: SipCallerLeg;
  readonly route: RouteRequest;
  readonly offer: SessionBody | undefined;
  readonly wireCallId: string;
  readonly fromUser: string | undefined;
  readonly toUser: string | undefined;
  refuse(r: SipCallRefusal): void;
}

/**
 * The call layer's view of a new INVITE. A Request-URI routing cannot read is refused at once
 * (416) and yields undefined.
 */
export function incomingCallOf(leg: SipCallerLeg, req: SipRequest, source: Source, digest: DigestAuth, onRefused: () => void): SipIncomingCall | undefined {
  const refuse = (r: SipCallRefusal): void => {
    onRefused();
    const headers = refusalHeaders({ kind: 'reject', rule: '', status: r.status, ...(r.challenge === undefined ? {} : { challenge: r.challenge }), ...(r.retryAfterSec === undefined ? {} : { retryAfterSec: r.retryAfterSec }) }, digest, source);
    leg.answer(r.status, r.reason, undefined, headers);
    leg.close();
  };
  const route = routeRequestOfInvite(req, source, digest);
  if (route === undefined) {
    refuse({ status: 416 });
    return undefined;
  }
  const to = getHeader(req, 'to');
  return {
    leg,
    route,
    offer: bodyOf(req),
    wireCallId: getHeader(req, 'call-id') ?? '',
    fromUser: fromUserOf(req),
    toUser: to === undefined ? undefined : dialedTargetOf(/<([^>]*)>/.exec(to)?.[1] ?? to.split(';')[0] ?? '')?.user,
    refuse,
  };
}
