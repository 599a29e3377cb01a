import type { SipHeader, SipMessage } from './types.ts';

/** RFC 3261 §7.3.3 and later RFCs: compact forms → long names (lower-case). */
export const COMPACT_NAMES: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** How Carillon writes well-known header names on the wire. Others are written title-cased. */
const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'session-expires': 'Session-Expires',
  'min-se': 'Min-SE',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

const displayCache = new Map<string, string>();

/** Canonical lower-case long name for a header name as written on the wire. */
export function canonicalHeaderName(raw: string): string {
  const lower = raw.toLowerCase();
  if (lower.length === 1) return COMPACT_NAMES[lower] ?? lower;
  return lower;
}

/** The name Carillon writes for a canonical header name ('call-id' → 'Call-ID'). */
export function displayHeaderName(name: string): string {
  const known = DISPLAY_NAMES[name];
  if (known !== undefined) return known;
  let cached = displayCache.get(name);
  if (cached === undefined) {
    cached = name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    if (displayCache.size < 4096) displayCache.set(name, cached);
  }
  return cached;
}

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1): several values may share
 * one line and mean the same as several lines. Everything else is never split
 * (WWW-Authenticate and friends contain commas inside one value).
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding',
  'content-language', 'in-reply-to', 'path', 'service-route', 'reason', 'p-asserted-identity',
  'history-info', 'security-client', 'security-server', 'security-verify',
]);

/**
 * Splits a header value on commas that are outside quoted strings and <…> (RFC 3261 §7.3.1).
 * Empty elements are dropped; each element is trimmed.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++; // backslash escapes the next char
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      const part = value.slice(start, i).trim();
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}

/** First value of a header (first line, unsplit), or undefined. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i] as SipHeader;
    if (h.name === name) return h.value;
  }
  return undefined;
}

/** Every value of a header in order; list headers are split on top-level commas. */
export function getHeaderValues(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  const list = LIST_HEADERS.has(name);
  for (const h of msg.headers) {
    if (h.name !== name) continue;
    if (list) for (const v of splitList(h.value)) out.push(v);
    else out.push(h.value);
  }
  return out;
}

/** First element of a (possibly comma-combined) list header, e.g. the topmost Via. */
export function getFirstListValue(msg: SipMessage, name: string): string | undefined {
  const v = getHeader(msg, name);
  if (v === undefined) return undefined;
  if (v.indexOf(',') < 0) return v.trim();
  return splitList(v)[0];
}

export function hasHeader(msg: SipMessage, name: string): boolean {
  return getHeader(msg, name) !== undefined;
}

/** Replaces every line of `name` with one line carrying `value` (kept at the first one's place). */
export function setHeader(msg: SipMessage, name: string, value: string): void {
  const hs = msg.headers;
  let idx = -1;
  for (let i = hs.length - 1; i >= 0; i--) {
    if ((hs[i] as SipHeader).name === name) {
      if (idx >= 0) hs.splice(idx, 1);
      idx = i;
    }
  }
  if (idx >= 0) hs[idx] = { name, value };
  else hs.push({ name, value });
}

/** Adds a header line at the end. */
export function appendHeader(msg: SipMessage, name: string, value: string): void {
  msg.headers.push({ name, value });
}

/** Adds a header line before every other line of the same name (or at the top when none). */
export function prependHeader(msg: SipMessage, name: string, value: string): void {
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    if ((hs[i] as SipHeader).name === name) {
      hs.splice(i, 0, { name, value });
      return;
    }
  }
  hs.unshift({ name, value });
}

/** Removes every line of a header; returns how many were removed. */
export function removeHeader(msg: SipMessage, name: string): number {
  const hs = msg.headers;
  let n = 0;
  for (let i = hs.length - 1; i >= 0; i--) {
    if ((hs[i] as SipHeader).name === name) {
      hs.splice(i, 1);
      n++;
    }
  }
  return n;
}

/**
 * Removes the first element of a list header (the top Via after a proxy/UAS consumes it):
 * drops the first line when it holds one element, else rewrites it without its first element.
 */
export function removeFirstListValue(msg: SipMessage, name: string): void {
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i] as SipHeader;
    if (h.name !== name) continue;
    const parts = h.value.indexOf(',') < 0 ? [h.value] : splitList(h.value);
    if (parts.length <= 1) hs.splice(i, 1);
    else hs[i] = { name, value: parts.slice(1).join(', ') };
    return;
  }
}

/** Whether a comma-list header (Supported, Require, Allow…) contains a token, case-insensitively. */
export function listHasToken(msg: SipMessage, name: string, token: string): boolean {
  const t = token.toLowerCase();
  for (const v of getHeaderValues(msg, name)) if (v.toLowerCase() === t) return true;
  return false;
}
