import { isIP } from 'node:net';

/**
 * Checks for network values that came from a peer (a Via, Contact, Route, SDP line, a route in
 * the API) before they reach a Node API that throws on them: `dgram.send` and `net.connect`
 * throw ERR_SOCKET_BAD_PORT synchronously for a port outside 1–65535, and resolve any address
 * that is not an IP literal through DNS. Every destination is checked here first.
 */

/** A port a datagram or connection can go to: an integer in 1–65535 (0 is "any" only for bind). */
export function isUsablePort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** A port field as written on the wire ('5060'): its number when usable, else undefined. */
export function usablePortOf(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string' || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return isUsablePort(n) ? n : undefined;
}

/** An IPv4 or IPv6 literal (no brackets, no zone name lookups): what a socket may send to without DNS. */
export function isIpLiteral(address: unknown): address is string {
  return typeof address === 'string' && address.length > 0 && address.length <= 64 && isIP(address) !== 0;
}

/** '[::1]' → '::1'; anything else unchanged. */
export function unbracket(host: string): string {
  return host.length > 1 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
