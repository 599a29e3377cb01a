import type { SipMessage } from '../message/types.ts';

export type TransportName = 'udp' | 'tcp' | 'tls';

/** Whether a transport is reliable (RFC 3261 §17: timers A/E/G and retransmissions only on unreliable). */
export function isReliable(t: TransportName): boolean {
  return t !== 'udp';
}

/** Where a message came from, as the transport layer saw it. */
export interface Source {
  readonly transport: TransportName;
  /** Remote IP address (no brackets for IPv6). */
  readonly address: string;
  readonly port: number;
  /** Local address and port the message arrived on. */
  readonly localAddress: string;
  readonly localPort: number;
  /** For stream transports: the connection the message arrived on (for reuse). */
  readonly connectionId?: number;
}

/** Where to send a message. */
export interface Destination {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
  /** For stream transports: prefer this existing connection when it is still open. */
  readonly connectionId?: number;
}

/** Outcome reported when a send fails (RFC 3261 §18.4: a transport error informs the transaction). */
export interface SendFailure {
  readonly code: 'CONNECT_FAILED' | 'CONNECTION_CLOSED' | 'NO_ROUTE' | 'TOO_LARGE' | 'SEND_FAILED';
}

/** What the transport layer offers to the transaction layer above it. */
export interface SipSender {
  /**
   * Serializes and sends a message. For stream transports it reuses an open connection to the
   * destination (or `connectionId`) and opens one otherwise. `onError` is called at most once,
   * asynchronously, when the message could not be handed to the network.
   */
  send(msg: SipMessage, dest: Destination, onError?: (f: SendFailure) => void): void;
  /** Sends bytes already serialized (retransmissions of a message sent before). */
  sendRaw(buf: Buffer, dest: Destination, onError?: (f: SendFailure) => void): void;
  /** The address/port/transport Carillon puts in its own Via and Contact for a given transport. */
  local(transport: TransportName): { readonly address: string; readonly port: number } | undefined;
}
