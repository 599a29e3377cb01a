import type { NextHop } from '../../../common/route.ts';
import { parseUri, unescapeUser, writeUri } from '../message/uri.ts';
import type { SipUri } from '../message/types.ts';

/**
 * A routing next hop as a SIP URI and back. A hop is written `sip:[user@]host[:port][;transport=…]`
 * (IPv6 literals in brackets, RFC 3261 §19.1.1): TLS is `;transport=tls` on a sip: URI, as
 * Carillon's carriers and origination routes always were; a hop whose transport routing left
 * open gets no parameter, so RFC 3263 §4.1 picks it (NAPTR, then SRV).
 */
export function requestUriOf(hop: NextHop, dialedUser?: string): string {
  const host = hop.host.includes(':') && !hop.host.startsWith('[') ? `[${hop.host}]` : hop.host;
  const params = new Map<string, string | null>();
  if (hop.transport !== undefined) params.set('transport', hop.transport);
  const user = hop.user ?? (dialedUser === undefined || dialedUser.length === 0 ? undefined : dialedUser);
  const uri: SipUri = { scheme: 'sip', host, params, ...(hop.port === undefined ? {} : { port: hop.port }), ...(user === undefined ? {} : { user: escapeUser(user) }) };
  return writeUri(uri);
}

/** RFC 3261 §25.1 user: unreserved, escaped and user-unreserved characters; everything else %-escaped. */
function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Why a SIP URI is no next hop (a config file's static route names the reason). */
export type HopUriFault = 'not-sip' | 'bad-port' | 'bad-transport' | 'unsupported-part';

/**
 * A static route's SIP URI as a next hop, read once: scheme sip: (or sips:, which is TLS), user
 * (escapes resolved), host, port, and `;transport=` udp/tcp/tls. Any other parameter (maddr, lr…),
 * a password or URI headers have no place in a hop and are refused rather than dropped.
 */
export function hopOfUri(text: string): { ok: true; hop: NextHop } | { ok: false; fault: HopUriFault } {
  const uri = parseUri(text);
  if (uri === undefined || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return { ok: false, fault: 'not-sip' };
  if (uri.port !== undefined && (!Number.isInteger(uri.port) || uri.port < 1 || uri.port > 65535)) return { ok: false, fault: 'bad-port' };
  if (uri.password !== undefined || uri.headers !== undefined) return { ok: false, fault: 'unsupported-part' };
  for (const name of uri.params.keys()) if (name.toLowerCase() !== 'transport') return { ok: false, fault: 'unsupported-part' };
  const param = uri.params.get('transport');
  let transport: NextHop['transport'];
  if (typeof param === 'string') {
    const t = param.toLowerCase();
    if (t !== 'udp' && t !== 'tcp' && t !== 'tls') return { ok: false, fault: 'bad-transport' };
    transport = t;
  } else if (param === null) return { ok: false, fault: 'bad-transport' };
  if (uri.scheme === 'sips') {
    if (transport !== undefined && transport !== 'tls') return { ok: false, fault: 'bad-transport' };
    transport = 'tls';
  }
  const host = uri.host.startsWith('[') && uri.host.endsWith(']') ? uri.host.slice(1, -1) : uri.host.toLowerCase();
  return { ok: true, hop: { transport, host, port: uri.port, user: uri.user === undefined ? undefined : unescapeUser(uri.user), headers: [] } };
}
