import type { CallRouter, CredentialsCheck, CredentialsResult, DialedTarget, RouteDecision, RouteRequest } from '../../../common/route.ts';
import type { DigestAuth } from '../../auth/digest.ts';
import { getHeader, getHeaderValues } from '../message/headers.ts';
import { parseNameAddr } from '../message/name-addr.ts';
import { parseUri, unescapeUser } from '../message/uri.ts';
import type { SipHeader, SipRequest } from '../message/types.ts';
import type { Source } from '../transport/types.ts';

export { requestUriOf } from '../resolve/hop-uri.ts';

/**
 * The SIP side of routing: an INVITE becomes routing's neutral RouteRequest (common/route.ts),
 * and a decision comes back as SIP — next hops as Request-URIs (requestUriOf), a refusal's
 * Proxy-Authenticate and Retry-After (refusalHeaders). Routing itself never sees a header.
 */

/** The dialed user (escapes resolved, RFC 3261 §19.1.4) and host of a Request-URI; undefined when it is neither SIP nor tel. */
export function dialedTargetOf(requestUri: string): DialedTarget | undefined {
  const uri = parseUri(requestUri);
  if (uri === undefined || uri.scheme === 'other') return undefined;
  if (uri.scheme === 'tel') return { user: uri.number, host: '' };
  return { user: uri.user === undefined ? undefined : unescapeUser(uri.user), host: uri.host.toLowerCase() };
}

/** The user part (or tel number) of a name-addr header value. */
function userOf(value: string | undefined): string | undefined {
  const na = parseNameAddr(value ?? '');
  const u = na === undefined ? undefined : parseUri(na.uri);
  if (u === undefined || u.scheme === 'other') return undefined;
  return u.scheme === 'tel' ? u.number : u.user === undefined ? undefined : unescapeUser(u.user);
}

/** The user of a request's From (origination's calling number). */
export function fromUserOf(req: SipRequest): string | undefined {
  return userOf(getHeader(req, 'from'));
}

/**
 * Who a PBX says is calling: the P-Asserted-Identity it sends (RFC 3325; the trunk is trusted once
 * authenticated), else its From; and whether the caller asked to stay hidden (RFC 3323 Privacy
 * `id`/`user`, or an anonymous From).
 */
export function callingPartyOf(req: SipRequest): { user: string | undefined; anonymous: boolean } {
  const pai = getHeader(req, 'p-asserted-identity')?.split(',')[0];
  const from = fromUserOf(req);
  const privacy = (getHeader(req, 'privacy') ?? '').toLowerCase().split(/[;,\s]+/);
  return { user: userOf(pai) ?? from, anonymous: privacy.includes('id') || privacy.includes('user') || from?.toLowerCase() === 'anonymous' };
}

/** Whether an INVITE opens a recording session: the siprec option tag, or rs-metadata in its body (RFC 7866 §6.1). */
export function isRecordingSession(req: SipRequest): boolean {
  const require = (getHeader(req, 'require') ?? '').toLowerCase();
  const ct = (getHeader(req, 'content-type') ?? '').toLowerCase();
  return /(^|,)\s*siprec\s*(,|$)/.test(require) || (ct.startsWith('multipart/') && req.body.toString('latin1').toLowerCase().includes('application/rs-metadata+xml'));
}

/** What an INVITE's offer says of its audio: none (no body: a late offer), SRTP (an RTP/SAVP or RTP/SAVPF m=audio line), else RTP. */
export function audioOfferOf(req: SipRequest): RouteRequest['audioOffer'] {
  if (req.body.length === 0) return 'none';
  return /^m=audio \S+ RTP\/SAVPF? /m.test(req.body.toString('latin1')) ? 'srtp' : 'rtp';
}

/** Routing's check of the INVITE's Proxy-Authorization answers against a realm's accounts (nonces bound to the source). */
export function digestCheckOf(invite: SipRequest, source: Source, digest: DigestAuth): CredentialsCheck {
  return (realm, accounts): CredentialsResult => {
    const verdict = digest.verify(getHeaderValues(invite, 'proxy-authorization'), invite, realm, source.address, accounts);
    switch (verdict.kind) {
      case 'ok':
        return { kind: 'ok', username: verdict.username };
      case 'challenge':
        return { kind: 'absent' };
      case 'stale':
        return { kind: 'stale' };
      case 'failed':
        return { kind: 'failed', reason: verdict.reason };
      default: {
        const never: never = verdict;
        return never;
      }
    }
  };
}

/** An INVITE as routing's neutral request; undefined when its Request-URI is neither SIP nor tel. */
export function routeRequestOfInvite(invite: SipRequest, source: Source, digest: DigestAuth): RouteRequest | undefined {
  const dialed = dialedTargetOf(invite.uri);
  if (dialed === undefined) return undefined;
  return {
    dialed,
    caller: callingPartyOf(invite),
    fromUser: fromUserOf(invite),
    source: { address: source.address, port: source.port, transport: source.transport },
    credentials: digestCheckOf(invite, source, digest),
    recording: isRecordingSession(invite),
    audioOffer: audioOfferOf(invite),
  };
}

/** The refusal of an INVITE whose Request-URI routing cannot read (416 Unsupported URI Scheme). */
const BAD_REQUEST_URI: RouteDecision = Object.freeze({ kind: 'reject', status: 416, rule: 'bad-request-uri' });

/** Routes an INVITE: its neutral request through `router`, or 416 when it has none. */
export function routeInvite(router: CallRouter, invite: SipRequest, source: Source, digest: DigestAuth): RouteDecision {
  const req = routeRequestOfInvite(invite, source, digest);
  return req === undefined ? BAD_REQUEST_URI : router.decide(req);
}

/**
 * A refusal's SIP header fields: a digest challenge for the realm routing named (407
 * Proxy-Authenticate, one per algorithm, nonce bound to the source; RFC 7616 stale=true when
 * asked), and Retry-After (RFC 3261 §20.33) when routing asked the caller to wait.
 */
export function refusalHeaders(decision: RouteDecision, digest: Pick<DigestAuth, 'challenge'>, source: Source): SipHeader[] {
  if (decision.kind !== 'reject') return [];
  const out: SipHeader[] = [];
  if (decision.challenge !== undefined) {
    for (const value of digest.challenge(decision.challenge.realm, source.address, decision.challenge.stale)) out.push({ name: 'proxy-authenticate', value });
  }
  if (decision.retryAfterSec !== undefined) out.push({ name: 'retry-after', value: String(decision.retryAfterSec) });
  return out;
}
