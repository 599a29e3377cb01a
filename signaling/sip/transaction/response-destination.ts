import type { Via } from '../message/types.ts';
import { defaultPortFor } from '../message/via.ts';
import type { Destination, Source, TransportName } from '../transport/types.ts';

/**
 * Where a server transaction sends its responses (RFC 3261 §18.2.2 with RFC 3581 §4):
 * reliable → back over the connection the request came on (and, if it closed, to the source
 * address and port); unreliable → `received` (with `rport` when it has a value, else the Via
 * port or the default), or sent-by when there is no `received`.
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
  const rport = via.params.get('rport');
  const rportNum = typeof rport === 'string' && /^\d{1,5}$/.test(rport) ? Number(rport) : undefined;
  if (typeof received === 'string' && received.length > 0) {
    return { transport, address: received, port: rportNum ?? via.port ?? defaultPortFor(via.transport) };
  }
  const host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  return { transport, address: host, port: rportNum ?? via.port ?? defaultPortFor(via.transport) };
}
