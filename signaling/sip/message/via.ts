import { parseParams, writeParams } from './params.ts';
import type { Via } from './types.ts';

/** RFC 3261 §8.1.1.7: branch IDs of RFC 3261 elements start with this cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/**
 * Parses one Via value (RFC 3261 §20.42):
 *
 *   via-parm   =  sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by    =  host [ COLON port ]
 *
 * Returns undefined when the value does not follow the grammar.
 */
export function parseVia(value: string): Via | undefined {
  const v = value.trim();
  // sent-protocol: three tokens separated by '/', LWS allowed around the slashes.
  const m = /^([!-~]+?)\s*\/\s*([!-~]+?)\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+/.exec(v);
  if (m === null) return undefined;
  const protocol = `${m[1] as string}/${m[2] as string}`;
  const transport = (m[3] as string).toUpperCase();
  let i = m[0].length;
  let host: string;
  if (v.charCodeAt(i) === 0x5b) {
    const close = v.indexOf(']', i);
    if (close < 0) return undefined;
    host = v.slice(i, close + 1);
    i = close + 1;
  } else {
    let j = i;
    while (j < v.length) {
      const c = v.charCodeAt(j);
      if (c === 0x3a || c === 0x3b || c === 0x20 || c === 0x09) break;
      j++;
    }
    host = v.slice(i, j);
    i = j;
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return undefined;
  }
  if (host.length === 0) return undefined;
  while (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09) i++;
  let port: number | undefined;
  if (v.charCodeAt(i) === 0x3a) {
    i++;
    while (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09) i++;
    let j = i;
    while (j < v.length && v.charCodeAt(j) >= 0x30 && v.charCodeAt(j) <= 0x39) j++;
    if (j === i || j - i > 5) return undefined;
    port = Number(v.slice(i, j));
    // A sent-by port must be one a response can go to (port 0 is "any" only when binding).
    if (port < 1 || port > 65535) return undefined;
    i = j;
  }
  while (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09) i++;
  if (i < v.length && v.charCodeAt(i) !== 0x3b) return undefined;
  const params = parseParams(v, i);
  if (params === undefined) return undefined;
  const via: Via = { protocol, transport, host: host.toLowerCase(), params };
  if (port !== undefined) via.port = port;
  return via;
}

/** Writes a Via value. */
export function writeVia(via: Via): string {
  const sentBy = via.port === undefined ? via.host : `${via.host}:${via.port}`;
  return `${via.protocol}/${via.transport} ${sentBy}${writeParams(via.params)}`;
}

/** The branch parameter, when present. */
export function viaBranch(via: Via): string | undefined {
  const b = via.params.get('branch');
  return b === null || b === undefined ? undefined : b;
}

/** Default port for a Via transport (RFC 3261 §18.2.2 / §19.1.2). */
export function defaultPortFor(transport: string): number {
  return transport === 'TLS' || transport === 'WSS' ? 5061 : 5060;
}
