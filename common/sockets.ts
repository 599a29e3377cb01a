import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { literalOnlyLookup } from './resolver.ts';
import type { NodeLookup } from './resolver.ts';

/**
 * Socket construction is injected (STYLE.md 6) so signaling and media never call
 * dgram.createSocket or net.connect themselves. The server uses socketsWithLookup over its Resolver.
 */
export interface SocketFactory {
  udp(type: 'udp4' | 'udp6'): dgram.Socket;
  tcpServer(onConnection: (s: net.Socket) => void): net.Server;
  tlsServer(options: tls.TlsOptions, onConnection: (s: tls.TLSSocket) => void): tls.Server;
  tcpConnect(options: net.NetConnectOpts): net.Socket;
  tlsConnect(options: tls.ConnectionOptions): tls.TLSSocket;
}

/**
 * Sockets whose names resolve through `lookup` (built on the process's Resolver by
 * lookupFunction in resolver.ts). dgram resolves every destination before sending, even an IP
 * literal: the lookup answers literals at once, and never hands a socket anything but an IP
 * literal.
 */
export function socketsWithLookup(lookup: NodeLookup): SocketFactory {
  // dgram never asks for `all`, so the answer is one address (the narrower callback it declares).
  const udpLookup = lookup as dgram.SocketOptions['lookup'];
  return {
    udp: (type) => dgram.createSocket({ type, reuseAddr: false, lookup: udpLookup }),
    tcpServer: (onConnection) => net.createServer({ noDelay: true }, onConnection),
    tlsServer: (options, onConnection) => tls.createServer(options, onConnection),
    tcpConnect: (options) => net.connect({ ...options, lookup } as net.NetConnectOpts),
    tlsConnect: (options) => tls.connect({ ...options, lookup }),
  };
}

/**
 * Sockets that take IP literals only: a name given to them fails (ENOTFOUND) without a query.
 * Media sends only to addresses learnt from SDP and packets, which must be literals.
 */
export const nodeSockets: SocketFactory = socketsWithLookup(literalOnlyLookup);

/** IPv6 literal test for choosing the UDP socket family. */
export function isIpv6(address: string): boolean {
  return address.includes(':');
}
