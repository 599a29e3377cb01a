import type { PartyIdentity, SessionBody } from '../../../common/call-leg.ts';
import type { DigestAuth } from '../../auth/digest.ts';
import type { CredentialsCheck, HopTransport, RouteRequest } from '../../routing/route.ts';
import { getHeader, getHeaderValues } from '../message/headers.ts';
import { parseNameAddr } from '../message/name-addr.ts';
import { parseUri, unescapeUser } from '../message/uri.ts';
import type { SipHeader, SipRequest } from '../message/types.ts';
import type { Source } from '../transport/types.ts';
import type { SipCallerLeg } from './sip-caller-leg.ts';
import { bodyOf } from './sip-util.ts';

/**
 * A new INVITE as the call layer takes it: the caller's leg and a routing request in no
 * protocol's terms (the dialed user and host from the Request-URI, the caller from
 * P-Asserted-Identity or From with its privacy, the SIPREC test, the offer's audio profile, and a
 * credentials check over Proxy-Authorization), plus how to refuse it in SIP.
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

/** The user part (or tel: number) of a name-addr header value, escapes resolved. */
export function userOfNameAddr(value: string | undefined): string | undefined {
  const na = parseNameAddr(value ?? '');
  const u = na === undefined ? undefined : parseUri(na.uri);
  if (u === undefined || u.scheme === 'other') return undefined;
  return u.scheme === 'tel' ? u.number : u.user === undefined ? undefined : unescapeUser(u.user);
}

/**
 * Who a PBX says is calling: the P-Asserted-Identity it sends (RFC 3325; the trunk is trusted once
 * authenticated), else its From; and whether the caller asked to stay hidden (RFC 3323 Privacy
 * `id`/`user`, or an anonymous From).
 */
export function callerOfInvite(req: SipRequest): PartyIdentity & { readonly user: string } {
  const pai = getHeader(req, 'p-asserted-identity')?.split(',')[0];
  const from = userOfNameAddr(getHeader(req, 'from'));
  const privacy = (getHeader(req, 'privacy') ?? '').toLowerCase().split(/[;,\s]+/);
  return { user: userOfNameAddr(pai) ?? from ?? '', anonymous: privacy.includes('id') || privacy.includes('user') || from?.toLowerCase() === 'anonymous' };
}

/** Whether an INVITE opens a recording session (RFC 7866: Require: siprec, or rs-metadata in its body). */
export function isRecordingSession(req: SipRequest): boolean {
  const require = (getHeader(req, 'require') ?? '').toLowerCase();
  const ct = (getHeader(req, 'content-type') ?? '').toLowerCase();
  return /(^|,)\s*siprec\s*(,|$)/.test(require) || (ct.startsWith('multipart/') && req.body.toString('latin1').toLowerCase().includes('application/rs-metadata+xml'));
}

/** The routing request of an INVITE; undefined when its Request-URI is unusable (416). */
export function routeRequestOfInvite(req: SipRequest, source: Source, digest: DigestAuth): RouteRequest | undefined {
  const uri = parseUri(req.uri);
  if (uri === undefined || uri.scheme === 'other') return undefined;
  const dialed = uri.scheme === 'tel' ? { user: uri.number, host: '' } : { user: uri.user === undefined ? undefined : unescapeUser(uri.user), host: uri.host.toLowerCase() };
  const who = callerOfInvite(req);
  const credentials: CredentialsCheck = (realm, accounts) => {
    const v = digest.verify(getHeaderValues(req, 'proxy-authorization'), req, realm, source.address, accounts);
    switch (v.kind) {
      case 'ok':
        return { kind: 'ok', username: v.username };
      case 'challenge':
        return { kind: 'absent' };
      case 'stale':
        return { kind: 'stale' };
      case 'failed':
        return { kind: 'failed', reason: v.reason };
      default: {
        const never: never = v;
        return never;
      }
    }
  };
  const body = req.body.length === 0 ? '' : req.body.toString('latin1');
  const audio = /^m=audio \S+ (\S+)/m.exec(body)?.[1];
  return {
    dialed,
    caller: who.user === '' ? { user: '', anonymous: who.anonymous } : who,
    fromUser: userOfNameAddr(getHeader(req, 'from')),
    source: { address: source.address, port: source.port, transport: source.transport as HopTransport },
    credentials,
    recording: isRecordingSession(req),
    audioOffer: audio === undefined ? 'none' : /^RTP\/SAVPF?$/.test(audio) ? 'srtp' : 'rtp',
  };
}

/** The SIP header fields of a refusal: a digest challenge, Retry-After. */
export function refusalHeaders(r: SipCallRefusal, digest: DigestAuth, sourceAddress: string): SipHeader[] {
  const headers: SipHeader[] = [];
  if (r.challenge !== undefined) for (const value of digest.challenge(r.challenge.realm, sourceAddress, r.challenge.stale)) headers.push({ name: 'proxy-authenticate', value });
  if (r.retryAfterSec !== undefined) headers.push({ name: 'retry-after', value: String(r.retryAfterSec) });
  return headers;
}

/**
 * The call layer's view of a new INVITE. A Request-URI routing cannot read is refused at once
 * (416) and yields undefined.
 */
export function incomingCallOf(leg: SipCallerLeg, req: SipRequest, source: Source, digest: DigestAuth, onRefused: () => void): SipIncomingCall | undefined {
  const refuse = (r: SipCallRefusal): void => {
    onRefused();
    leg.answer(r.status, r.reason, undefined, refusalHeaders(r, digest, source.address));
    leg.close();
  };
  const route = routeRequestOfInvite(req, source, digest);
  if (route === undefined) {
    refuse({ status: 416 });
    return undefined;
  }
  return {
    leg,
    route,
    offer: bodyOf(req),
    wireCallId: getHeader(req, 'call-id') ?? '',
    fromUser: userOfNameAddr(getHeader(req, 'from')),
    toUser: userOfNameAddr(getHeader(req, 'to')),
    refuse,
  };
}
