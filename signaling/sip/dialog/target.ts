import { isIpLiteral, isUsablePort } from '../../../common/net-values.ts';
import { parseUri } from '../message/uri.ts';
import type { Destination, TransportName } from '../transport/types.ts';

/**
 * Destination for a SIP URI whose host is an IP literal (RFC 3263 §4 with the name step skipped):
 * transport from `;transport=`, `sips:` meaning TLS, else the given default; port from the URI
 * or the transport's default. Host names are resolved by routing before a call is placed;
 * here they yield undefined, as does a port outside 1–65535 (a peer's Contact or Route may say
 * anything). TODO(rfc3263 §4.1): NAPTR/SRV for in-dialog host names.
 */
export function destinationForUri(uriText: string, defaultTransport: TransportName): Destination | undefined {
  const uri = parseUri(uriText);
  if (uri === undefined || uri.scheme === 'tel' || uri.scheme === 'other') return undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  if (!isIpLiteral(host)) return undefined;
  const transport = transportOf(uri.params.get('transport'), uri.scheme === 'sips', defaultTransport);
  const port = uri.port ?? (transport === 'tls' ? 5061 : 5060);
  if (!isUsablePort(port)) return undefined;
  return { transport, address: host, port };
}

export function transportOf(param: string | null | undefined, sips: boolean, fallback: TransportName): TransportName {
  if (sips) return 'tls';
  if (param === undefined || param === null) return fallback;
  switch (param.toLowerCase()) {
    case 'udp':
      return 'udp';
    case 'tcp':
      return 'tcp';
    case 'tls':
      return 'tls';
    default:
      return fallback;
  }
}

/** Transport, host and port a SIP URI names as next hop, before any name resolution; undefined for a port outside 1–65535. */
export function nextHopOf(uriText: string, defaultTransport: TransportName = 'udp'): { transport: TransportName; host: string; port: number } | undefined {
  const uri = parseUri(uriText);
  if (uri === undefined || uri.scheme === 'tel' || uri.scheme === 'other') return undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  const transport = transportOf(uri.params.get('transport'), uri.scheme === 'sips', defaultTransport);
  const port = uri.port ?? (transport === 'tls' ? 5061 : 5060);
  return isUsablePort(port) ? { transport, host, port } : undefined;
}
