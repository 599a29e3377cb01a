import { parseParams, writeParams } from './params.ts';
import type { NameAddr } from './types.ts';

/**
 * RFC 3261 §20.10 / §25.1:
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * followed by header parameters. Without angle brackets the value is an addr-spec, and any
 * ';params' after it belong to the header, not the URI. Returns undefined on a grammar fault.
 */
export function parseNameAddr(value: string): NameAddr | undefined {
  const v = value.trim();
  if (v.length === 0 || v === '*') return undefined;
  let i = 0;
  let displayName: string | undefined;
  if (v.charCodeAt(0) === 0x22) {
    // quoted-string with backslash escapes
    let out = '';
    i = 1;
    for (;;) {
      if (i >= v.length) return undefined;
      const c = v.charCodeAt(i);
      if (c === 0x5c) {
        if (i + 1 >= v.length) return undefined;
        out += v[i + 1];
        i += 2;
        continue;
      }
      if (c === 0x22) break;
      out += v[i];
      i++;
    }
    displayName = out;
    i++;
    while (i < v.length && (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09)) i++;
    if (v.charCodeAt(i) !== 0x3c) return undefined;
  }
  const lt = v.indexOf('<', i);
  if (lt >= 0 && (displayName !== undefined || !hasBareUriBefore(v, lt))) {
    if (displayName === undefined) {
      const dn = v.slice(0, lt).trim();
      // An unquoted display name is tokens separated by LWS (RFC 3261 §25.1).
      if (dn.length > 0 && !/^[A-Za-z0-9.!%*_+`'~-]+(?:[ \t]+[A-Za-z0-9.!%*_+`'~-]+)*$/.test(dn)) return undefined;
      if (dn.length > 0) displayName = dn;
    }
    const gt = v.indexOf('>', lt + 1);
    if (gt < 0) return undefined;
    // No LWS inside the angle brackets (RFC 4475 §3.1.2.14).
    const uri = v.slice(lt + 1, gt);
    if (uri.length === 0 || !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>]*$/.test(uri)) return undefined;
    const params = parseParams(v, gt + 1);
    if (params === undefined) return undefined;
    if (!/^\s*(;|$)/.test(v.slice(gt + 1))) return undefined;
    const out: NameAddr = { uri, params };
    if (displayName !== undefined) out.displayName = displayName;
    return out;
  }
  // addr-spec: the URI ends at the first ';' (its params are header params).
  const semi = v.indexOf(';');
  const uri = (semi < 0 ? v : v.slice(0, semi)).trim();
  // RFC 3261 §20.10: a URI with a comma, '?' or ';' must be in angle brackets.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>",?]+$/.test(uri)) return undefined;
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(v, semi);
  if (params === undefined) return undefined;
  return { uri, params };
}

/** Whether text before a '<' already holds a URI (then the '<' belongs to something else). */
function hasBareUriBefore(v: string, lt: number): boolean {
  const head = v.slice(0, lt);
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"]*$/.test(head.trim()) && head.trim().length > 0;
}

/** Writes a name-addr in `<uri>` form, quoting the display name. */
export function writeNameAddr(n: NameAddr): string {
  const dn = n.displayName === undefined ? '' : `"${n.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${dn}<${n.uri}>${writeParams(n.params)}`;
}

/** The tag parameter of a From/To value (outside the URI's angle brackets), fast path. */
export function getTag(value: string): string | undefined {
  const gt = value.lastIndexOf('>');
  const tail = gt >= 0 ? value.slice(gt + 1) : value;
  const idx = tail.search(/;\s*tag\s*=/i);
  if (idx < 0) return undefined;
  const eq = tail.indexOf('=', idx);
  let end = eq + 1;
  while (end < tail.length && tail.charCodeAt(end) !== 0x3b && tail.charCodeAt(end) !== 0x20 && tail.charCodeAt(end) !== 0x09) end++;
  const tag = tail.slice(eq + 1, end).trim();
  return tag.length === 0 ? undefined : tag;
}
