import type { CallRefusal, IncomingCall } from '../../../common/incoming-call.ts';
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

/** A new INVITE's call: its leg is the SIP caller's leg. */
export interface SipIncomingCall extends IncomingCall {
  readonly leg: SipCallerLeg;
}

/**
 * The call layer's view of a new INVITE. A Request-URI routing cannot read is refused at once
 * (416) and yields undefined.
 */
export function incomingCallOf(leg: SipCallerLeg, req: SipRequest, source: Source, digest: DigestAuth, onRefused: () => void): SipIncomingCall | undefined {
  const refuse = (r: CallRefusal): void => {
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
