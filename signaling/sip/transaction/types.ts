import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Destination, SendFailure, Source } from '../transport/types.ts';

/** RFC 3261 §17 timer base values; every derived timer follows from these unless overridden. */
export interface TransactionTimerConfig {
  /** RTT estimate, default 500 ms. Timers A, E, G start here; B, F, H, J, L, M are 64·T1. */
  readonly t1Ms: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  readonly t2Ms: number;
  /** Maximum time a message remains in the network, default 5 s (Timers I and K). */
  readonly t4Ms: number;
  /** Timer D (ICT Completed wait for response retransmissions on unreliable transports), default 32 s. */
  readonly timerDMs: number;
}

export const DEFAULT_TIMER_CONFIG: TransactionTimerConfig = {
  t1Ms: 500,
  t2Ms: 4000,
  t4Ms: 5000,
  timerDMs: 32_000,
};

export type IctState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';
export type NictState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type IstState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';
export type NistState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Told to the transaction user about a client transaction. */
export interface ClientTransactionUser {
  /**
   * Every response the transaction passes up: provisional ones, the final one, and (RFC 6026
   * Accepted state) retransmitted 2xx to an INVITE, which the TU answers with its own ACK.
   */
  onResponse(res: SipResponse, tx: ClientTransaction): void;
  /** Timer B or F fired with no final response (RFC 3261 §8.1.3.1: treat as 408). */
  onTimeout(tx: ClientTransaction): void;
  /** The request could not be sent (RFC 3261 §8.1.3.1: treat as 503). */
  onTransportError(tx: ClientTransaction, failure: SendFailure): void;
}

export interface ClientTransaction {
  readonly kind: 'ict' | 'nict';
  readonly request: SipRequest;
  readonly destination: Destination;
  /** The branch of the Via this transaction put on the request. */
  readonly branch: string;
  readonly state: IctState | NictState;
  /** Stops every timer and forgets the transaction at once (e.g. when the owning call is torn down). */
  terminate(): void;
}

export interface ServerTransaction {
  readonly kind: 'ist' | 'nist';
  readonly request: SipRequest;
  readonly source: Source;
  readonly state: IstState | NistState;
  /** Whether a final response has been sent. */
  readonly finalSent: boolean;
  /**
   * Sends a response through this transaction (RFC 3261 §17.2). The response is sent to the
   * address §18.2.2 gives (top Via received/rport, or the arriving connection). Responses after
   * the final one are ignored, except further 2xx retransmissions in the Accepted state.
   */
  respond(res: SipResponse): void;
}

/** The layer above (the transaction user: the edge / dialog layer). */
export interface TransactionUser {
  /** A new request, not an ACK and not a CANCEL that the layer answered itself. */
  onRequest(tx: ServerTransaction): void;
  /**
   * An ACK that matched no server transaction in a state that absorbs it: the ACK for a 2xx
   * (RFC 3261 §17.2.3, RFC 6026 Accepted state passes it up too). The dialog layer owns it.
   */
  onAck(ack: SipRequest, source: Source): void;
  /**
   * A CANCEL matched a live INVITE server transaction. The layer has already answered the CANCEL
   * with 200 (RFC 3261 §9.2); the TU should answer the INVITE with 487 if it has not answered yet.
   */
  onCancel(invite: ServerTransaction, cancel: SipRequest): void;
  /** A response that matched no client transaction (counted and dropped by the caller). */
  onStrayResponse(res: SipResponse, source: Source): void;
  /**
   * RFC 3261 §17.2.4: a response of this INVITE server transaction could not be sent (its
   * connection closed, its destination unusable); the transaction has ended. The TU must give
   * up on answering it — nothing it sends there arrives.
   */
  onServerTransportError(invite: ServerTransaction): void;
}

export interface TransactionCounts {
  readonly client: number;
  readonly server: number;
}
