import { isIpLiteral, isUsablePort, unbracket, usablePortOf } from '../../../common/net-values.ts';
import type { Via } from '../message/types.ts';
import { defaultPortFor } from '../message/via.ts';
import type { Destination, Source, TransportName } from '../transport/types.ts';

/**
 * Where a server transaction sends its responses (RFC 3261 §18.2.2 with RFC 3581 §4):
 * reliable → back over the connection the request came on (and, if it closed, to the source
 * address and port); unreliable → `received` (with `rport` when it has a value, else the Via
 * port or the default), or sent-by when there is no `received`.
 *
 * Every value here came from the peer: an address that is not an IP literal, or a port outside
 * 1–65535, is never used — the response goes back to where the request came from instead
 * (the transport stamps `received`/`rport` with the source before this runs, so that is the
 * usual case anyway).
 * TODO(rfc3261 §18.2.2): `maddr` multicast responses are not supported.
 */
export function responseDestination(via: Via, source: Source): Destination {
  const transport: TransportName = source.transport;
  if (transport !== 'udp') {
    return source.connectionId === undefined
      ? { transport, address: source.address, port: source.port }
      : { transport, address: source.address, port: source.port, connectionId: source.connectionId };
  }
  const received = via.params.get('received');
  const rport = usablePortOf(via.params.get('rport'));
  const viaPort = via.port !== undefined && isUsablePort(via.port) ? via.port : defaultPortFor(via.transport);
  if (typeof received === 'string' && received.length > 0) {
    const address = unbracket(received);
    return isIpLiteral(address) ? { transport, address, port: rport ?? viaPort } : { transport, address: source.address, port: source.port };
  }
  const host = unbracket(via.host);
  // A sent-by that names a host (not an address) would need DNS; the source is where the request came from.
  if (!isIpLiteral(host)) return { transport, address: source.address, port: rport ?? source.port };
  return { transport, address: host, port: rport ?? viaPort };
}
