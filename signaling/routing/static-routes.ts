import { parseUri, unescapeUser } from '../sip/message/uri.ts';
import type { HopTransport, NextHop, RouteDecision } from './route.ts';

/** A direct SIP peering route from the config file (first match wins). */
export interface StaticRoute {
  readonly match: { readonly userPrefix?: string; readonly host?: string };
  /** Next hop, e.g. 'sip:127.0.0.1:5080;transport=udp'. */
  readonly target: string;
}

/** The dialed user and host of a Request-URI. */
export interface DialedUri {
  /** Request-URI user part (the dialed number or name), if any. */
  readonly user: string | undefined;
  /** Request-URI host, lower-cased. */
  readonly host: string;
}

/** Reads user (escapes resolved, RFC 3261 §19.1.4) and host out of a Request-URI for routing. */
export function routeRequestOf(requestUri: string): DialedUri | undefined {
  const uri = parseUri(requestUri);
  if (uri === undefined) return undefined;
  if (uri.scheme === 'tel') return { user: uri.number, host: '' };
  if (uri.scheme === 'other') return undefined;
  return { user: uri.user === undefined ? undefined : unescapeUser(uri.user), host: uri.host.toLowerCase() };
}

/** A static route's target URI as a next hop (undefined: not a SIP URI Carillon can send to). */
export function hopOfTarget(target: string): NextHop | undefined {
  const uri = parseUri(target);
  if (uri === undefined || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return undefined;
  const t = uri.params.get('transport')?.toLowerCase();
  const transport: HopTransport | undefined = uri.scheme === 'sips' || t === 'tls' ? 'tls' : t === 'tcp' ? 'tcp' : t === 'udp' ? 'udp' : undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  return { transport, host, port: uri.port, user: uri.user === undefined ? undefined : unescapeUser(uri.user), headers: [] };
}

/** Pure: the first route whose every given condition holds; none → 404; a target that is no SIP URI → 502. */
export function routeStatic(routes: readonly StaticRoute[], req: DialedUri): RouteDecision {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as StaticRoute;
    const { userPrefix, host } = r.match;
    if (userPrefix !== undefined && (req.user === undefined || !req.user.startsWith(userPrefix))) continue;
    if (host !== undefined && host.toLowerCase() !== req.host) continue;
    const hop = hopOfTarget(r.target);
    if (hop === undefined) return { kind: 'reject', status: 502, rule: `routes[${i}]`, reason: 'Bad Route Target' };
    return { kind: 'forward', hop, alternates: [], rule: `routes[${i}]` };
  }
  return { kind: 'reject', status: 404, rule: 'no-route' };
}
