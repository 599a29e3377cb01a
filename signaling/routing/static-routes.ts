import { parseUri, unescapeUser, writeUri } from '../sip/message/uri.ts';
import type { SipHeader } from '../sip/message/types.ts';

/** A direct SIP peering route from the config file (first match wins). */
export interface StaticRoute {
  readonly match: { readonly userPrefix?: string; readonly host?: string };
  /** Next hop, e.g. 'sip:127.0.0.1:5080;transport=udp'. */
  readonly target: string;
}

/** A call on a voice connector: which one, which way, and the numbers (for metrics, CDRs and events). */
export interface TrunkCall {
  readonly voiceConnectorId: string;
  readonly region: string;
  /** Chime's CDR direction: termination (PBX → phone network) is Outbound, origination Inbound. */
  readonly direction: 'Outbound' | 'Inbound';
  readonly fromNumber: string | undefined;
  readonly toNumber: string;
  readonly fromCountry: string | undefined;
  readonly toCountry: string | undefined;
  /** The voice connector requires encryption: the PBX's leg is SIP over TLS with SDES-SRTP media. */
  readonly encrypted?: boolean;
}

/** A further target of a call, with the voice connector it belongs to when that changes (group failover). */
export interface RouteAlternate {
  readonly target: string;
  readonly trunk?: TrunkCall;
  /** Credentials Carillon answers this target's digest challenges with (a carrier's). */
  readonly credentials?: UpstreamCredentials;
}

/** The identity Carillon asserts for a trunk's caller (RFC 3325), hidden from the callee when `anonymous` (RFC 3323). */
export interface CallerIdentity {
  readonly user: string;
  readonly displayName?: string;
  readonly anonymous: boolean;
}

export interface UpstreamCredentials {
  readonly username: string;
  readonly password: string;
}

/** What the router decided and how (STYLE.md 11: decisions say how they were made). */
export type RouteDecision =
  | {
      readonly kind: 'forward';
      readonly target: string;
      /** Next targets, tried in order when the one before fails with 408, 5xx, a timeout or a transport error. */
      readonly alternates?: readonly RouteAlternate[];
      readonly rule: string;
      readonly trunk?: TrunkCall;
      /** Caller identity for the outbound leg (caller ID, calling name, and whether to hide it). */
      readonly caller?: CallerIdentity;
      /** Credentials for the first target's digest challenges. */
      readonly credentials?: UpstreamCredentials;
    }
  /** A SIPREC recording session for a voice connector: Carillon answers it and records (RFC 7866). */
  | { readonly kind: 'record'; readonly rule: string; readonly trunk: TrunkCall }
  | {
      readonly kind: 'reject';
      readonly status: number;
      readonly rule: string;
      readonly reason?: string;
      readonly headers?: readonly SipHeader[];
      readonly trunk?: TrunkCall;
      /** Refused by the voice connector's CpsLimit (Chime's Throttles). */
      readonly throttled?: boolean;
    };

export interface RouteRequest {
  /** Request-URI user part (the dialed number or name), if any. */
  readonly user: string | undefined;
  /** Request-URI host, lower-cased. */
  readonly host: string;
}

/** Reads user (escapes resolved, RFC 3261 §19.1.4) and host out of a Request-URI for routing. */
export function routeRequestOf(requestUri: string): RouteRequest | undefined {
  const uri = parseUri(requestUri);
  if (uri === undefined) return undefined;
  if (uri.scheme === 'tel') return { user: uri.number, host: '' };
  if (uri.scheme === 'other') return undefined;
  return { user: uri.user === undefined ? undefined : unescapeUser(uri.user), host: uri.host.toLowerCase() };
}

/** Pure: the first route whose every given condition holds; none → 404. */
export function routeStatic(routes: readonly StaticRoute[], req: RouteRequest): RouteDecision {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as StaticRoute;
    const { userPrefix, host } = r.match;
    if (userPrefix !== undefined && (req.user === undefined || !req.user.startsWith(userPrefix))) continue;
    if (host !== undefined && host.toLowerCase() !== req.host) continue;
    return { kind: 'forward', target: r.target, rule: `routes[${i}]` };
  }
  return { kind: 'reject', status: 404, rule: 'no-route' };
}

/**
 * The outbound Request-URI: the target, carrying the dialed user when the target names none
 * (a trunk next hop needs the number in the Request-URI).
 */
export function outboundRequestUri(target: string, user: string | undefined): string {
  const uri = parseUri(target);
  if (uri === undefined || uri.scheme !== 'sip' && uri.scheme !== 'sips') return target;
  if (uri.user !== undefined || user === undefined || user.length === 0) return target;
  return writeUri({ ...uri, user });
}
