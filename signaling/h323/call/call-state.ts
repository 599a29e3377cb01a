/**
 * The Q.931 call states of a call Carillon takes over H.225.0 (Q.931 §2.1, the network side's
 * view from the called user: U0 null, U9 incoming call proceeding, U7 call received, U10 active,
 * U19 release request), which message is acceptable in which, and what a Status says. Unknown
 * message types are answered with Status cause 97, ones out of place with cause 98 (Q.931
 * §5.8.4/§5.8.5); StatusEnquiry with cause 30 and the state (h323plus and ooh323c answer so).
 */
import { CAUSE } from '../q931/causes.ts';
import { callStateIe, causeIe, messageName } from '../q931/q931.ts';
import type { Q931Ie } from '../q931/q931.ts';

export type CallState = 'null' | 'incoming-proceeding' | 'call-received' | 'active' | 'release-request';

/** Q.931 state numbers (Call state IE). */
export const STATE_NUMBER: Readonly<Record<CallState, number>> = {
  null: 0,
  'incoming-proceeding': 9,
  'call-received': 7,
  active: 10,
  'release-request': 19,
};

/** What to do with a message received in a state. */
export type Disposition =
  | { readonly kind: 'take' }
  /** Informational: nothing to do (Notify, Progress, Information, a Status of the peer's). */
  | { readonly kind: 'ignore' }
  /** StatusEnquiry: answer Status with cause 30. */
  | { readonly kind: 'status-enquiry' }
  /** Answer Status with this cause and carry on. */
  | { readonly kind: 'status'; readonly cause: number };

export function dispositionOf(state: CallState, type: number): Disposition {
  const name = messageName(type);
  switch (name) {
    case undefined:
      return { kind: 'status', cause: CAUSE.messageTypeNonExistent };
    case 'statusEnquiry':
      return { kind: 'status-enquiry' };
    case 'notify':
    case 'progress':
    case 'information':
    case 'status':
      return { kind: 'ignore' };
    case 'setup':
      return state === 'null' ? { kind: 'take' } : { kind: 'status', cause: CAUSE.messageNotCompatibleWithState };
    case 'facility':
    case 'releaseComplete':
      return { kind: 'take' };
    default:
      // CallProceeding, Alerting, Connect, SetupAck come from the side that took a call: never to Carillon's inbound leg.
      return { kind: 'status', cause: CAUSE.messageNotCompatibleWithState };
  }
}

/** The IEs of a Status: its cause and the call state. */
export function statusIes(state: CallState, cause: number): Q931Ie[] {
  return [causeIe(cause), callStateIe(STATE_NUMBER[state])];
}
