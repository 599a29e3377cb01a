import type { SipHeader, SipMessage, SipRequest, SipResponse } from '../message/types.ts';
import { createResponse } from './responses.ts';

/**
 * Headers each leg of a B2BUA writes for itself and never copies from the other leg: they
 * would leak the other side's topology (Via, Route, Record-Route, Contact, Call-ID, tags), its
 * credentials (Authorization), its software (User-Agent, Server), or describe a per-leg
 * negotiation (Session-Expires, Require, Supported, RSeq/RAck) that Carillon terminates itself.
 */
const PER_LEG: ReadonlySet<string> = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'authentication-info',
  'session-expires',
  'min-se',
  'require',
  'proxy-require',
  'supported',
  'unsupported',
  'server',
  'user-agent',
  'rseq',
  'rack',
  'allow',
  'accept',
  'path',
  'service-route',
  'organization',
  'warning',
]);

/** Appends to `out` every header of `msg` that crosses a B2BUA (body-describing ones included). */
export function copyCrossingHeaders(msg: SipMessage, out: SipHeader[]): void {
  for (const h of crossingFields(msg.headers)) out.push(h);
}

/** The fields of a list that cross a B2BUA (the per-leg ones left out), copied. */
export function crossingFields(fields: readonly { readonly name: string; readonly value: string }[]): SipHeader[] {
  const out: SipHeader[] = [];
  for (const h of fields) if (!PER_LEG.has(h.name)) out.push({ name: h.name, value: h.value });
  return out;
}

/** Methods Carillon handles; advertised in Allow. */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'MESSAGE'] as const;
export const ALLOW_VALUE = ALLOWED_METHODS.join(', ');

/** Methods known to SIP that Carillon does not serve outside a dialog (answered 405 with Allow). */
export const KNOWN_NOT_ALLOWED = new Set(['REGISTER', 'SUBSCRIBE', 'PUBLISH']);

/** In-dialog methods relayed to the other leg as they are. */
export const RELAYED_IN_DIALOG = new Set(['INFO', 'UPDATE', 'REFER', 'NOTIFY', 'MESSAGE', 'OPTIONS']);

/** Option tags Carillon implements (RFC 4028 'timer', RFC 3262 '100rel'). */
export const SUPPORTED_OPTION_TAGS = new Set(['timer', '100rel', 'siprec']);

export const ACCEPT_VALUE = 'application/sdp';

/** 200 to an out-of-dialog OPTIONS sent to Carillon itself: its capabilities, no version banner (SPEC §2). */
export function capabilitiesAnswer(req: SipRequest, toTag: string): SipResponse {
  return createResponse(req, 200, {
    toTag,
    headers: [
      { name: 'allow', value: ALLOW_VALUE },
      { name: 'accept', value: ACCEPT_VALUE },
      { name: 'supported', value: 'timer, 100rel' },
    ],
  });
}
