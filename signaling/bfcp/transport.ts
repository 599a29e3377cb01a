/**
 * BFCP over TCP (RFC 8855 §6.1, §6.2) and the routing shared with UDP (udp-transport.ts):
 * messages go to the floor control server of their Conference ID; one that names no conference
 * here is answered with Error 1. TCP connections are TpktEndpoint connections (the h323
 * transport's limits: connections in all and per source, a deadline per message once its first
 * octet arrived, an idle limit, a bound on unsent octets) with a BFCP framer instead of TPKT's:
 * "BFCP messages ... are delimited by the COMMON-HEADER's Payload Length" — nothing else frames
 * them on the stream.
 */
import type { Timers } from '../../common/clock.ts';
import type { SocketFactory } from '../../common/sockets.ts';
import { DEFAULT_TPKT_LIMITS, type TpktConnection, TpktEndpoint, type TpktFramer, type TpktLimits } from '../h323/transport/tpkt-listener.ts';
import { ATTR, type BfcpAttribute } from './attributes.ts';
import { BFCP_HEADER_BYTES, type BfcpResult, type CommonHeader, ERROR_CODE, PRIMITIVE, type Primitive } from './common-header.ts';
import type { BfcpPeer } from './floor-server.ts';
import { type BfcpMessage, encodeMessage, errorCodeAttr, type OutgoingMessage, parseMessage, textAttr } from './messages.ts';

/** What a transport hands messages to (FloorServer is one). */
export interface BfcpReceiver {
  receive(result: BfcpResult<BfcpMessage>, peer: BfcpPeer): void;
  peerClosed(peer: BfcpPeer): void;
}

/** The floor control server of a Conference ID; undefined when the conference is not here. */
export type BfcpRouter = (conferenceId: number) => BfcpReceiver | undefined;

/** A version to answer in: the request's when it is one we speak, else 2. */
export function answerVersion(h: Pick<CommonHeader, 'version'>): 1 | 2 {
  return h.version === 1 ? 1 : 2;
}

/** The Error answering `request` (ERROR-CODE, optional ERROR-INFO), as a message to encode. */
export function errorAnswer(request: CommonHeader, code: number, responder: boolean, unknownTypes: readonly number[] = [], info?: string): OutgoingMessage {
  const attributes: BfcpAttribute[] = [errorCodeAttr(code, unknownTypes)];
  if (info !== undefined) attributes.push(textAttr(ATTR.ErrorInfo, info));
  return {
    version: answerVersion(request),
    responder,
    primitive: PRIMITIVE.Error,
    conferenceId: request.conferenceId,
    transactionId: request.transactionId,
    userId: request.userId,
    attributes,
  };
}

/** Where routeMessage sent a message. */
export type RouteOutcome = 'routed' | 'unroutable' | 'unanswerable';

/**
 * Routes one parse result from `peer`: to its conference's receiver ('routed'), or an Error 1
 * through `answer` when none is here ('unroutable'). Without a header nothing can be answered
 * ('unanswerable').
 */
export function routeMessage(result: BfcpResult<BfcpMessage>, peer: BfcpPeer, router: BfcpRouter, seen: Set<BfcpReceiver>, answer: (m: OutgoingMessage) => void, responder: boolean): RouteOutcome {
  const header = result.ok ? result.value.header : result.header;
  if (header === undefined) return 'unanswerable';
  const receiver = router(header.conferenceId);
  if (receiver === undefined) {
    // §13.8: "Conference does not Exist" — but never an Error for a response or an Error.
    if (!header.responder && header.primitive !== PRIMITIVE.Error) answer(errorAnswer(header, ERROR_CODE.ConferenceDoesNotExist, responder));
    return 'unroutable';
  }
  seen.add(receiver);
  receiver.receive(result, peer);
  return 'routed';
}

/**
 * Cuts BFCP messages out of a TCP byte stream by their COMMON-HEADER (RFC 8855 §5.1: Payload
 * Length in 4-octet units after the 12-octet header). Holds at most one message; a version
 * other than 1/2, the F bit (fragments belong to unreliable transports, §6.2.3), or a length
 * over the bound ends the stream (the connection closes: nothing after can be framed).
 */
export class BfcpStreamFramer implements TpktFramer {
  readonly #maxMessageBytes: number;
  #buf: Buffer;
  #have = 0;
  #need = BFCP_HEADER_BYTES;
  #failed: string | undefined;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = Math.max(BFCP_HEADER_BYTES, maxMessageBytes);
    this.#buf = Buffer.allocUnsafe(Math.min(this.#maxMessageBytes, 1024));
  }

  get partial(): boolean {
    return this.#have > 0;
  }

  push(chunk: Buffer): { readonly frames: readonly Buffer[]; readonly keepalives: number; readonly error: string | undefined } {
    const frames: Buffer[] = [];
    if (this.#failed !== undefined) return { frames, keepalives: 0, error: this.#failed };
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(this.#need - this.#have, chunk.length - at);
      chunk.copy(this.#buf, this.#have, at, at + take);
      this.#have += take;
      at += take;
      if (this.#have < this.#need) break;
      if (this.#need === BFCP_HEADER_BYTES && this.#have === BFCP_HEADER_BYTES) {
        const b0 = this.#buf[0] as number;
        const version = b0 >>> 5;
        if (version !== 1 && version !== 2) return this.#fail(frames, 'version');
        if ((b0 & 0x08) !== 0) return this.#fail(frames, 'fragment on a stream');
        const total = BFCP_HEADER_BYTES + this.#buf.readUInt16BE(2) * 4;
        if (total > this.#maxMessageBytes) return this.#fail(frames, 'too large');
        if (total > BFCP_HEADER_BYTES) {
          this.#need = total;
          if (this.#buf.length < total) {
            const grown = Buffer.allocUnsafe(total);
            this.#buf.copy(grown, 0, 0, BFCP_HEADER_BYTES);
            this.#buf = grown;
          }
          continue;
        }
      }
      frames.push(Buffer.from(this.#buf.subarray(0, this.#need)));
      this.#have = 0;
      this.#need = BFCP_HEADER_BYTES;
    }
    return { frames, keepalives: 0, error: undefined };
  }

  #fail(frames: Buffer[], error: string): { frames: Buffer[]; keepalives: number; error: string } {
    this.#failed = error;
    this.#have = 0;
    return { frames, keepalives: 0, error };
  }
}

export interface BfcpTcpOptions {
  /** Largest message taken on a connection, octets; default 16 KiB (room systems send a few dozen). */
  readonly maxMessageBytes?: number;
  /** Connection limits; defaults: DEFAULT_BFCP_TCP_LIMITS. */
  readonly limits?: Partial<TpktLimits>;
}

/** BFCP connections stay up the whole meeting, quiet between presentations. */
export const DEFAULT_BFCP_TCP_LIMITS: TpktLimits = {
  ...DEFAULT_TPKT_LIMITS,
  maxConnections: 1024,
  maxConnectionsPerSource: 16,
  frameDeadlineMs: 5_000,
  idleTimeoutMs: 4 * 3600_000,
  maxPendingWriteBytes: 256 * 1024,
};

export const DEFAULT_BFCP_TCP_MAX_MESSAGE_BYTES = 16 * 1024;

export interface BfcpTransportDeps {
  readonly sockets: SocketFactory;
  readonly timers: Timers;
  readonly router: BfcpRouter;
}

/** Counters of the TCP transport. */
export interface BfcpTcpCounters {
  messages: number;
  unroutable: number;
}

/** One TCP connection as a floor control server's peer. Over TCP R stays clear and notifications carry transaction id 0. */
class TcpPeer implements BfcpPeer {
  readonly seen = new Set<BfcpReceiver>();
  readonly #conn: TpktConnection;

  constructor(conn: TpktConnection) {
    this.#conn = conn;
  }

  send(m: OutgoingMessage): void {
    this.#conn.send(encodeMessage(m));
  }

  respond(request: CommonHeader, primitive: Primitive, attributes: readonly BfcpAttribute[]): void {
    this.send({ version: answerVersion(request), responder: false, primitive, conferenceId: request.conferenceId, transactionId: request.transactionId, userId: request.userId, attributes });
  }

  notify(version: 1 | 2, conferenceId: number, userId: number, primitive: Primitive, attributes: readonly BfcpAttribute[]): void {
    // RFC 8855 §8: over reliable transports server-initiated messages carry Transaction ID 0.
    this.send({ version, responder: false, primitive, conferenceId, transactionId: 0, userId, attributes });
  }

  close(): void {
    this.#conn.close();
  }
}

/** BFCP over TCP (`m=application <port> TCP/BFCP *`, Carillon passive: a=setup:passive). */
export class BfcpTcpTransport {
  readonly counters: BfcpTcpCounters = { messages: 0, unroutable: 0 };
  readonly #deps: BfcpTransportDeps;
  readonly #endpoint: TpktEndpoint;
  readonly #maxMessageBytes: number;

  constructor(deps: BfcpTransportDeps, opts: BfcpTcpOptions = {}) {
    this.#deps = deps;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_BFCP_TCP_MAX_MESSAGE_BYTES;
    const max = this.#maxMessageBytes;
    this.#endpoint = new TpktEndpoint({
      sockets: deps.sockets,
      timers: deps.timers,
      framer: () => new BfcpStreamFramer(max),
      frame: (message) => message,
      limits: { ...DEFAULT_BFCP_TCP_LIMITS, ...opts.limits },
    });
  }

  /** Connection counters (opened, refused, closed by reason). */
  get connectionCounters(): TpktEndpoint['counters'] {
    return this.#endpoint.counters;
  }

  get connections(): number {
    return this.#endpoint.connections;
  }

  /** Listens on `port` (0 picks one); resolves the port. */
  listen(bindAddress: string, port: number): Promise<number> {
    return this.#endpoint.listen(bindAddress, port, (conn) => this.#adopt(conn));
  }

  /** Connects to a peer that is passive (a=setup:passive in its answer, RFC 4145); false when it cannot. */
  async connect(address: string, port: number, localAddress?: string): Promise<boolean> {
    const conn = await this.#endpoint.connect(address, port, localAddress);
    if (conn === undefined) return false;
    this.#adopt(conn);
    return true;
  }

  #adopt(conn: TpktConnection): void {
    const peer = new TcpPeer(conn);
    conn.handler = {
      frame: (bytes) => {
        this.counters.messages++;
        const result = parseMessage(bytes, { maxBytes: this.#maxMessageBytes });
        const outcome = routeMessage(result, peer, this.#deps.router, peer.seen, (m) => peer.send(m), false);
        if (outcome === 'unroutable') this.counters.unroutable++;
        else if (outcome === 'unanswerable') peer.close();
      },
      closed: () => {
        for (const r of peer.seen) r.peerClosed(peer);
        peer.seen.clear();
      },
    };
  }

  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void> {
    return this.#endpoint.close();
  }
}
