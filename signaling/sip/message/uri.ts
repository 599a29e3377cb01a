import { parseParams, writeParams } from './params.ts';
import type { SipUri, TelUri, Uri } from './types.ts';

/**
 * RFC 3261 §19.1.1 / §25.1:
 *   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 * tel URIs per RFC 3966; any other `scheme:` kept as text. Escapes stay escaped.
 * Returns undefined on a grammar fault.
 */
export function parseUri(text: string): Uri | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = text.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return undefined;
  const rest = text.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSip(scheme, rest);
  if (scheme === 'tel') return parseTel(rest);
  if (rest.length === 0 || /[\s<>"]/.test(rest)) return undefined;
  return { scheme: 'other', raw: text };
}

const USER_CHARS = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/;
const PASSWORD_CHARS = /^[A-Za-z0-9\-_.!~*'()&=+$,%]*$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function parseSip(scheme: 'sip' | 'sips', rest: string): SipUri | undefined {
  if (rest.length === 0 || /[\s<>"]/.test(rest)) return undefined;
  // '?' may appear in the user part; headers start at the first '?' after the last '@'.
  let headers: string | undefined;
  const lastAt = rest.lastIndexOf('@');
  const q = rest.indexOf('?', lastAt + 1);
  let main = rest;
  if (q >= 0) {
    headers = rest.slice(q + 1);
    main = rest.slice(0, q);
  }
  // userinfo ends at the last '@' before the host part.
  const at = main.lastIndexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  let hostpart = main;
  if (at >= 0) {
    const userinfo = main.slice(0, at);
    hostpart = main.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    if (pc >= 0) {
      password = userinfo.slice(pc + 1);
      if (!PASSWORD_CHARS.test(password)) return undefined;
    }
    if (user.length === 0 || !USER_CHARS.test(user) || !validEscapes(user)) return undefined;
  }
  const semi = hostpart.indexOf(';');
  const hp = semi < 0 ? hostpart : hostpart.slice(0, semi);
  let host: string;
  let port: number | undefined;
  if (hp.startsWith('[')) {
    const close = hp.indexOf(']');
    if (close < 0) return undefined;
    host = hp.slice(0, close + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return undefined;
    const after = hp.slice(close + 1);
    if (after.length > 0) {
      if (!/^:\d{1,5}$/.test(after)) return undefined;
      port = Number(after.slice(1));
    }
  } else {
    const pc = hp.lastIndexOf(':');
    host = pc < 0 ? hp : hp.slice(0, pc);
    if (pc >= 0) {
      const p = hp.slice(pc + 1);
      if (!/^\d{1,5}$/.test(p)) return undefined;
      port = Number(p);
    }
    if (!HOSTNAME.test(host) && !IPV4.test(host)) return undefined;
  }
  if (port !== undefined && port > 65535) return undefined;
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(hostpart, semi);
  if (params === undefined) return undefined;
  const uri: SipUri = { scheme, host: host.toLowerCase(), params };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  if (headers !== undefined) uri.headers = headers;
  return uri;
}

/**
 * A user part with its escapes resolved (RFC 3261 §19.1.4: an escaped character and the character
 * itself are the same, so `%2B12065550100` is `+12065550100`). Escapes that are not UTF-8 stay
 * as written; never throws.
 */
export function unescapeUser(user: string): string {
  if (user.indexOf('%') < 0) return user;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

function validEscapes(s: string): boolean {
  for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
    if (!/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) return false;
  }
  return true;
}

/** RFC 3966: `tel:` global-number / local-number with parameters. */
function parseTel(rest: string): TelUri | undefined {
  const semi = rest.indexOf(';');
  const number = semi < 0 ? rest : rest.slice(0, semi);
  if (!/^\+?[0-9A-Fa-f*#().-]+$/.test(number) || !/[0-9A-Fa-f*#]/.test(number)) return undefined;
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(rest, semi);
  if (params === undefined) return undefined;
  return { scheme: 'tel', number, params };
}

/** Writes a URI back as text. */
export function writeUri(uri: Uri): string {
  switch (uri.scheme) {
    case 'other':
      return uri.raw;
    case 'tel':
      return `tel:${uri.number}${writeParams(uri.params)}`;
    case 'sip':
    case 'sips': {
      let s = `${uri.scheme}:`;
      if (uri.user !== undefined) s += uri.password === undefined ? `${uri.user}@` : `${uri.user}:${uri.password}@`;
      s += uri.host;
      if (uri.port !== undefined) s += `:${uri.port}`;
      s += writeParams(uri.params);
      if (uri.headers !== undefined) s += `?${uri.headers}`;
      return s;
    }
    default: {
      const never: never = uri;
      return never;
    }
  }
}

/** Host, port and transport parameter of a SIP URI. */
export function uriHostPortTransport(uri: SipUri): { host: string; port?: number; transport?: string } {
  const t = uri.params.get('transport');
  const out: { host: string; port?: number; transport?: string } = { host: uri.host };
  if (uri.port !== undefined) out.port = uri.port;
  if (typeof t === 'string') out.transport = t.toLowerCase();
  return out;
}
