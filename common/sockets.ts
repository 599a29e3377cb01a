import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';

/**
 * Socket construction is injected (STYLE.md 6) so signaling and media never call
 * dgram.createSocket or net.connect themselves. Production uses nodeSockets.
 */
export interface SocketFactory {
  udp(type: 'udp4' | 'udp6'): dgram.Socket;
  tcpServer(onConnection: (s: net.Socket) => void): net.Server;
  tlsServer(options: tls.TlsOptions, onConnection: (s: tls.TLSSocket) => void): tls.Server;
  tcpConnect(options: net.NetConnectOpts): net.Socket;
  tlsConnect(options: tls.ConnectionOptions): tls.TLSSocket;
}

/**
 * dgram resolves every destination before sending, even an IP literal (a deferred callback per
 * datagram). Literals are answered at once here; names still go to the system resolver.
 */
function literalFirstLookup(hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = net.isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, { family: options.family ?? 0, all: false }, (err, address, fam) => callback(err, address, fam));
}

export const nodeSockets: SocketFactory = {
  udp: (type) => dgram.createSocket({ type, reuseAddr: false, lookup: literalFirstLookup }),
  tcpServer: (onConnection) => net.createServer({ noDelay: true }, onConnection),
  tlsServer: (options, onConnection) => tls.createServer(options, onConnection),
  tcpConnect: (options) => net.connect(options),
  tlsConnect: (options) => tls.connect(options),
};

/** IPv6 literal test for choosing the UDP socket family. */
export function isIpv6(address: string): boolean {
  return address.includes(':');
}
