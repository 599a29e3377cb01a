import { getHeader, getHeaderValues } from '../sip/message/headers.ts';
import { parseCSeq } from '../sip/message/cseq.ts';
import { getTag, parseNameAddr, writeNameAddr } from '../sip/message/name-addr.ts';
import { parseUri, writeUri } from '../sip/message/uri.ts';
import type { SipHeader, SipMessage, SipRequest } from '../sip/message/types.ts';
import type { PartyIdentity } from '../../common/call-leg.ts';
import { frozenHeaders } from './call-summary.ts';
import type { HeaderField } from './call-summary.ts';

/** A From/To value with its tag parameter removed (the dialog keeps tags apart). */
export function stripTag(value: string): string {
  const gt = value.lastIndexOf('>');
  const head = gt >= 0 ? value.slice(0, gt + 1) : '';
  const tail = gt >= 0 ? value.slice(gt + 1) : value;
  return head + tail.replace(/;\s*tag\s*=\s*[^;\s]*/i, '');
}

export function toTagOf(msg: SipMessage): string | undefined {
  const v = getHeader(msg, 'to');
  return v === undefined ? undefined : getTag(v);
}

export function fromTagOf(msg: SipMessage): string | undefined {
  const v = getHeader(msg, 'from');
  return v === undefined ? undefined : getTag(v);
}

export function cseqOf(msg: SipMessage): { seq: number; method: string } | undefined {
  const v = getHeader(msg, 'cseq');
  return v === undefined ? undefined : parseCSeq(v);
}

/** The URI of the first Contact, or undefined when absent or '*'. */
export function contactUri(msg: SipMessage): string | undefined {
  const first = getHeaderValues(msg, 'contact')[0];
  if (first === undefined || first === '*') return undefined;
  return parseNameAddr(first)?.uri;
}

/** Whether a comma-list header holds a token (case-insensitive). */
export function hasToken(msg: SipMessage, name: string, token: string): boolean {
  for (const v of getHeaderValues(msg, name)) if (v.toLowerCase() === token) return true;
  return false;
}

/** Whether a request has a session description (any body with a Content-Type). */
export function hasBody(msg: SipMessage): boolean {
  return msg.body.length > 0;
}

/** User part of the Request-URI (e.g. the dialed number), when it has one. */
export function requestUser(req: SipRequest): string | undefined {
  const u = req.uri;
  const colon = u.indexOf(':');
  const at = u.indexOf('@');
  if (colon < 0 || at < 0 || at < colon) return undefined;
  const userinfo = u.slice(colon + 1, at);
  const pw = userinfo.indexOf(':');
  return pw < 0 ? userinfo : userinfo.slice(0, pw);
}

/** A From for an identity Carillon asserts (a trunk's caller ID and calling name) on its own host. */
export function identityUri(user: string, displayName: string | undefined, host: string): string {
  return writeNameAddr({ uri: writeUri({ scheme: 'sip', host, params: new Map([['user', 'phone']]), user }), params: new Map(), ...(displayName === undefined ? {} : { displayName }) });
}

/**
 * The callee leg's From for an asserted caller, with its P-Asserted-Identity (RFC 3325) put in
 * `headers` in place of any the caller sent: the caller's number either way; when the caller is
 * anonymous the From says so (RFC 3323 §4.1.1.3) and the caller's Privacy header (copied) tells
 * the carrier not to show the asserted number.
 */
export function assertedCaller(caller: PartyIdentity, host: string, headers: SipHeader[]): string {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]?.name === 'p-asserted-identity') headers.splice(i, 1);
  headers.push({ name: 'p-asserted-identity', value: identityUri(caller.user, caller.displayName, host) });
  return caller.anonymous ? '"Anonymous" <sip:anonymous@anonymous.invalid>' : identityUri(caller.user, caller.displayName, host);
}

/**
 * Topology hiding for the From a B2BUA puts on its outbound leg: the caller's identity (display
 * name and user part) is kept, its host and port become Carillon's own, and URI parameters other
 * than user=phone are dropped. Values that aren't SIP URIs pass unchanged.
 */
export function hideFromHost(value: string, host: string): string {
  const na = parseNameAddr(value);
  if (na === undefined) return value;
  const uri = parseUri(na.uri);
  if (uri === undefined || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return value;
  const params = new Map<string, string | null>();
  const userParam = uri.params.get('user');
  if (userParam !== undefined) params.set('user', userParam);
  const hidden = { scheme: uri.scheme, host, params, ...(uri.user === undefined ? {} : { user: uri.user }) };
  const out = { uri: writeUri(hidden), params: new Map<string, string | null>(), ...(na.displayName === undefined ? {} : { displayName: na.displayName }) };
  return writeNameAddr(out);
}

/**
 * A request's fields as it is (or was) on the wire, frozen for a call summary: its headers with
 * Content-Length the size of its body (the serializer writes that one).
 */
export function setupFieldsOf(req: SipRequest): readonly HeaderField[] {
  const out: HeaderField[] = [];
  for (const h of req.headers) if (h.name !== 'content-length') out.push(h);
  out.push({ name: 'content-length', value: String(req.body.length) });
  return frozenHeaders(out);
}
