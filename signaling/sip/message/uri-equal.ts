import { parseUri } from './uri.ts';
import type { SipUri } from './types.ts';

/**
 * Whether a digest answer's `uri` names the request it came with.
 *
 * RFC 7616 §3.4.6: "The authenticating server MUST assure that the resource designated by the
 * "uri" parameter is the same as the resource specified in the Request-Line". RFC 3261 §22.4
 * makes the SIP digest-uri the Request-URI, so the two are compared as SIP URIs (RFC 3261
 * §19.1.4), not as strings:
 * - scheme and host case-insensitively, user and password case-sensitively, escapes of
 *   unreserved characters equal to the characters;
 * - "A URI omitting any component with a default value will not match a URI explicitly
 *   containing that component with its default value": the ports must be both absent or equal;
 * - "Any uri-parameter appearing in both URIs must match"; "A user, ttl, or method
 *   uri-parameter appearing in only one URI never matches"; maddr likewise; other parameters in
 *   only one are ignored (values compared case-insensitively);
 * - "URI header components are never ignored": the `?` parts must hold the same headers.
 * tel URIs compare by number and parameters; anything else (or a URI that does not parse) only
 * byte for byte after trimming surrounding whitespace.
 */
export function sameRequestUri(digestUri: string, requestUri: string): boolean {
  const a = digestUri.trim();
  const b = requestUri.trim();
  if (a === b) return true;
  const ua = parseUri(a);
  const ub = parseUri(b);
  if (ua === undefined || ub === undefined || ua.scheme !== ub.scheme) return false;
  if (ua.scheme === 'tel' && ub.scheme === 'tel') return ua.number === ub.number && sameParams(ua.params, ub.params, EVERY_PARAM);
  if ((ua.scheme === 'sip' || ua.scheme === 'sips') && (ub.scheme === 'sip' || ub.scheme === 'sips')) return sameSipUri(ua, ub);
  return false;
}

/** uri-parameters that, present in one URI only, make the URIs differ (RFC 3261 §19.1.4). */
const ONE_SIDED_DIFFERS = new Set(['user', 'ttl', 'method', 'maddr']);
/** tel URIs (RFC 3966 §4): every parameter must be in both. */
const EVERY_PARAM = { has: (_: string): boolean => true };

function sameSipUri(a: SipUri, b: SipUri): boolean {
  if (unescapeUnreserved(a.user) !== unescapeUnreserved(b.user)) return false;
  if (unescapeUnreserved(a.password) !== unescapeUnreserved(b.password)) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port) return false;
  if (!sameParams(a.params, b.params, ONE_SIDED_DIFFERS)) return false;
  return sameHeaders(a.headers, b.headers);
}

function sameParams(a: ReadonlyMap<string, string | null>, b: ReadonlyMap<string, string | null>, oneSidedDiffers: { has(name: string): boolean }): boolean {
  for (const [name, va] of a) {
    if (!b.has(name)) {
      if (oneSidedDiffers.has(name)) return false;
      continue;
    }
    const vb = b.get(name);
    if ((va ?? '').toLowerCase() !== (vb ?? '').toLowerCase()) return false;
  }
  for (const name of b.keys()) if (!a.has(name) && oneSidedDiffers.has(name)) return false;
  return true;
}

function sameHeaders(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const norm = (h: string): string => h.split('&').map(unescapeUnreserved).sort().join('&');
  return norm(a) === norm(b);
}

/** RFC 3261 §19.1.4: "characters other than those in the "reserved" set are equivalent to their "%" HEX HEX encoding". */
function unescapeUnreserved(s: string | undefined): string | undefined {
  if (s === undefined || !s.includes('%')) return s;
  return s.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /^[A-Za-z0-9\-_.!~*'()]$/.test(c) ? c : m.toUpperCase();
  });
}
