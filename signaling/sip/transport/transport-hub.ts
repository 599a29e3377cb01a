import { isIpLiteral, isUsablePort } from '../../../common/net-values.ts';
import { serializeMessage } from '../message/serialize.ts';
import type { SipMessage } from '../message/types.ts';
import type { StreamTransport } from './stream-transport.ts';
import type { Destination, SendFailure, SipSender, TransportName } from './types.ts';
import type { UdpTransport } from './udp-transport.ts';

export interface TransportHubOptions {
  readonly udp?: UdpTransport;
  readonly tcp?: StreamTransport;
  readonly tls?: StreamTransport;
  /** Address Carillon writes into its Via and Contact headers. */
  readonly advertisedAddress: string;
  /** Sees every message sent, as bytes (SIP message logs). */
  readonly tap?: ((buf: Buffer) => void) | undefined;
}

/** Counters the edge exports. */
export interface SendCounters {
  messagesSent: number;
  noTransport: number;
  /** Messages not sent because the destination was no IP literal or its port not in 1–65535. */
  badDestination: number;
}

/**
 * The one SipSender: serializes a message once and hands it to the transport the destination
 * names. Owns nothing; the edge opens and closes the transports.
 */
export class TransportHub implements SipSender {
  readonly #opts: TransportHubOptions;
  readonly #advertised: string;
  readonly counters: SendCounters = { messagesSent: 0, noTransport: 0, badDestination: 0 };

  constructor(opts: TransportHubOptions) {
    this.#opts = opts;
    this.#advertised = opts.advertisedAddress.includes(':') ? `[${opts.advertisedAddress}]` : opts.advertisedAddress;
  }

  local(transport: TransportName): { readonly address: string; readonly port: number } | undefined {
    const t = this.#opts[transport];
    if (t === undefined || t.localPort === 0) return undefined;
    return { address: this.#advertised, port: t.localPort };
  }

  has(transport: TransportName): boolean {
    return this.#opts[transport] !== undefined;
  }

  send(msg: SipMessage, dest: Destination, onError?: (f: SendFailure) => void): void {
    this.sendRaw(serializeMessage(msg), dest, onError);
  }

  /**
   * Sends bytes already serialized (retransmissions, stateless answers). The one place every
   * message leaves through: a destination whose address is not an IP literal or whose port is
   * outside 1–65535 (a peer's Via, Contact or Route said so) is refused here as NO_ROUTE, never
   * handed to a socket that would throw or look the name up.
   */
  sendRaw(buf: Buffer, dest: Destination, onError?: (f: SendFailure) => void): void {
    const address = dest.address.startsWith('[') ? dest.address.slice(1, -1) : dest.address;
    if (!isIpLiteral(address) || !isUsablePort(dest.port)) {
      this.counters.badDestination++;
      if (onError !== undefined) queueMicrotask(() => onError({ code: 'NO_ROUTE' }));
      return;
    }
    this.counters.messagesSent++;
    this.#opts.tap?.(buf);
    switch (dest.transport) {
      case 'udp': {
        const udp = this.#opts.udp;
        if (udp === undefined) return this.#noTransport(onError);
        udp.send(buf, address, dest.port, onError);
        return;
      }
      case 'tcp':
      case 'tls': {
        const t = this.#opts[dest.transport];
        if (t === undefined) return this.#noTransport(onError);
        t.send(buf, address, dest.port, dest.connectionId, onError);
        return;
      }
      default: {
        const never: never = dest.transport;
        throw new Error(`unknown transport ${String(never)}`);
      }
    }
  }

  /** Whether a stream connection is still open (for reusing the flow a dialog came in on). */
  isConnectionOpen(transport: TransportName, connectionId: number): boolean {
    if (transport === 'udp') return false;
    return this.#opts[transport]?.isOpen(connectionId) ?? false;
  }

  #noTransport(onError: ((f: SendFailure) => void) | undefined): void {
    this.counters.noTransport++;
    if (onError !== undefined) queueMicrotask(() => onError({ code: 'NO_ROUTE' }));
  }
}
