/**
 * BFCP over UDP (RFC 8855 §6.2, `m=application <port> UDP/BFCP *`): one socket, one state per
 * remote address and port, bounded in number and dropped when idle.
 *
 * - Responses carry R set and the request's Transaction ID (§5.1: "When set, it indicates that
 *   this message is a response to a previous request"), and are kept a while: a request whose
 *   Transaction ID was answered is a retransmission, answered again from the cache, never seen
 *   twice by the floor control server (§6.2.2).
 * - Server-initiated transactions (FloorRequestStatus / FloorStatus notifications) take a fresh
 *   non-zero Transaction ID and are retransmitted "starting with T1 (500 ms) ... doubling ..."
 *   until the participant's FloorRequestStatusAck / FloorStatusAck (R set) arrives or the bounded
 *   count is spent (§6.2.2, §8.3).
 * - Messages larger than the datagram bound go as fragments (F set); fragments coming in are
 *   reassembled within bounds (§6.2.3, fragments.ts).
 * - Version 1 is RFC 4582's, reliable transports only (§5.1): answered with Error 12 by default.
 */
import type dgram from 'node:dgram';
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import { isIpLiteral, isUsablePort } from '../../common/net-values.ts';
import { isIpv6, type SocketFactory } from '../../common/sockets.ts';
import { TokenBuckets } from '../../common/token-bucket.ts';
import type { BfcpAttribute } from './attributes.ts';
import { type CommonHeader, parseCommonHeader, parseError, PRIMITIVE, type Primitive } from './common-header.ts';
import type { BfcpPeer } from './floor-server.ts';
import { FragmentReassembler, fragmentMessage } from './fragments.ts';
import { encodeMessage, type OutgoingMessage, parseMessage } from './messages.ts';
import { answerVersion, type BfcpReceiver, type BfcpRouter, routeMessage } from './transport.ts';

export interface BfcpUdpOptions {
  /** Datagrams sent are at most this, octets (larger messages are fragmented); default 1200. */
  readonly maxDatagramBytes?: number;
  /** Largest message taken (reassembled), octets; default 16 KiB. */
  readonly maxMessageBytes?: number;
  /** Remotes tracked at once (datagrams from more are dropped); default 1024. */
  readonly maxRemotes?: number;
  /** A remote silent this long with nothing outstanding is forgotten, ms; default 10 min. */
  readonly remoteIdleMs?: number;
  /** First retransmission interval, ms (T1); default 500, doubled each time. */
  readonly t1Ms?: number;
  /** Retransmissions of a notification before it is given up; default 4. */
  readonly maxRetransmits?: number;
  /** How long an answer is kept for retransmitted requests, ms; default 10 s. */
  readonly responseCacheMs?: number;
  /** Answers kept per remote; default 16. */
  readonly responseCacheSize?: number;
  /** Notifications awaiting an Ack per remote (the oldest is given up beyond); default 32. */
  readonly maxOutstanding?: number;
  /** Accept version 1 (RFC 4582) over UDP; default false (Error 12). */
  readonly acceptVersion1?: boolean;
}

export interface BfcpUdpDeps {
  readonly sockets: SocketFactory;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly router: BfcpRouter;
}

export interface BfcpUdpCounters {
  datagrams: number;
  droppedRemotes: number;
  unparsable: number;
  unroutable: number;
  answeredFromCache: number;
  retransmits: number;
  givenUp: number;
  acks: number;
}

const DEFAULTS = {
  maxDatagramBytes: 1200,
  maxMessageBytes: 16 * 1024,
  maxRemotes: 1024,
  remoteIdleMs: 600_000,
  t1Ms: 500,
  maxRetransmits: 4,
  responseCacheMs: 10_000,
  responseCacheSize: 16,
  maxOutstanding: 32,
  acceptVersion1: false,
} as const satisfies Required<BfcpUdpOptions>;

interface Outstanding {
  readonly datagrams: readonly Buffer[];
  timer: TimerHandle | undefined;
  retransmits: number;
  intervalMs: number;
}

/** One remote address and port, as a floor control server's peer. */
class UdpRemote implements BfcpPeer {
  readonly seen = new Set<BfcpReceiver>();
  readonly reassembler: FragmentReassembler;
  /** Transaction ID → the datagrams of our answer and when it was sent. */
  readonly answers = new Map<number, { readonly datagrams: readonly Buffer[]; readonly atMs: number }>();
  readonly outstanding = new Map<number, Outstanding>();
  lastMs: number;
  #nextTid = 1;
  readonly #owner: BfcpUdpTransport;
  readonly address: string;
  readonly port: number;

  constructor(owner: BfcpUdpTransport, address: string, port: number, nowMs: number, opts: Required<BfcpUdpOptions>) {
    this.#owner = owner;
    this.address = address;
    this.port = port;
    this.lastMs = nowMs;
    this.reassembler = new FragmentReassembler({ maxMessageBytes: opts.maxMessageBytes, maxPartial: 2, timeoutMs: opts.responseCacheMs });
  }

  respond(request: CommonHeader, primitive: Primitive, attributes: readonly BfcpAttribute[]): void {
    this.#owner.answer(this, { version: answerVersion(request), responder: true, primitive, conferenceId: request.conferenceId, transactionId: request.transactionId, userId: request.userId, attributes });
  }

  notify(version: 1 | 2, conferenceId: number, userId: number, primitive: Primitive, attributes: readonly BfcpAttribute[]): void {
    let tid = this.#nextTid;
    for (let i = 0; i < 0xffff && this.outstanding.has(tid); i++) tid = tid >= 0xffff ? 1 : tid + 1;
    this.#nextTid = tid >= 0xffff ? 1 : tid + 1;
    this.#owner.initiate(this, { version, responder: false, primitive, conferenceId, transactionId: tid, userId, attributes });
  }
}

/** BFCP over UDP on one socket. */
export class BfcpUdpTransport {
  readonly counters: BfcpUdpCounters = { datagrams: 0, droppedRemotes: 0, unparsable: 0, unroutable: 0, answeredFromCache: 0, retransmits: 0, givenUp: 0, acks: 0 };
  readonly #deps: BfcpUdpDeps;
  readonly #opts: Required<BfcpUdpOptions>;
  readonly #remotes = new Map<string, UdpRemote>();
  /** Error 1 answers per source address: 5 a second, bursts of 10. */
  readonly #unroutableAnswers = new TokenBuckets(5, 10);
  #socket: dgram.Socket | undefined;
  #sweep: TimerHandle | undefined;
  #closed = false;

  constructor(deps: BfcpUdpDeps, opts: BfcpUdpOptions = {}) {
    this.#deps = deps;
    this.#opts = { ...DEFAULTS, ...opts };
  }

  get remoteCount(): number {
    return this.#remotes.size;
  }

  /** Notifications awaiting an Ack, all remotes. */
  get outstandingCount(): number {
    let n = 0;
    for (const r of this.#remotes.values()) n += r.outstanding.size;
    return n;
  }

  /** Binds the socket (port 0 picks one); resolves the port. */
  bind(address: string, port: number): Promise<number> {
    const socket = this.#deps.sockets.udp(isIpv6(address) ? 'udp6' : 'udp4');
    this.#socket = socket;
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.datagram(msg, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve(socket.address().port);
      });
    });
  }

  /** One datagram from `address`:`port` (the socket's handler; tests may call it directly). */
  datagram(msg: Buffer, address: string, port: number): void {
    if (this.#closed) return;
    this.counters.datagrams++;
    const now = this.#deps.clock.monoMs();
    const remote = this.#remote(address, port, now);
    if (remote === undefined) {
      this.counters.droppedRemotes++;
      return;
    }
    remote.lastMs = now;
    const h = parseCommonHeader(msg, 0);
    if (!h.ok && h.header === undefined) {
      this.counters.unparsable++;
      return;
    }
    let bytes = msg;
    let header = h.ok ? h.value : h.header;
    if (h.ok && header !== undefined && header.fragmented) {
      const outcome = remote.reassembler.push(msg, now);
      if (outcome.kind === 'partial') return;
      if (outcome.kind === 'refused') return this.#deliver(remote, outcome.error, header);
      bytes = outcome.message;
    }
    if (header === undefined) return;
    if (header.responder) {
      // An answer to one of our notifications (FloorRequestStatusAck, FloorStatusAck, or an Error about it).
      const o = remote.outstanding.get(header.transactionId);
      if (o !== undefined) {
        this.counters.acks++;
        this.#deps.timers.clearTimeout(o.timer);
        remote.outstanding.delete(header.transactionId);
      }
      return;
    }
    const cached = header.transactionId === 0 ? undefined : remote.answers.get(header.transactionId);
    if (cached !== undefined && now - cached.atMs < this.#opts.responseCacheMs) {
      this.counters.answeredFromCache++;
      for (const d of cached.datagrams) this.#send(remote, d);
      return;
    }
    if (header.version === 1 && !this.#opts.acceptVersion1) return this.#deliver(remote, parseError('unsupported-version', header), header);
    const result = parseMessage(bytes, { maxBytes: this.#opts.maxMessageBytes });
    header = result.ok ? result.value.header : (result.header ?? header);
    this.#deliver(remote, result, header);
  }

  #deliver(remote: UdpRemote, result: Parameters<BfcpReceiver['receive']>[0], header: CommonHeader): void {
    if (!result.ok && (header.responder || header.primitive === PRIMITIVE.Error)) return;
    // Error 1 goes to any source address (it may be spoofed): paced per address, the rest dropped.
    const answerUnroutable = (m: OutgoingMessage): void => {
      if (this.#unroutableAnswers.take(remote.address, this.#deps.clock.monoMs())) this.answer(remote, m);
    };
    const outcome = routeMessage(result, remote, this.#deps.router, remote.seen, answerUnroutable, true);
    if (outcome === 'unroutable') this.counters.unroutable++;
    if (outcome === 'unanswerable') this.counters.unparsable++;
  }

  #remote(address: string, port: number, now: number): UdpRemote | undefined {
    const key = `${address}|${port}`;
    let r = this.#remotes.get(key);
    if (r !== undefined) return r;
    if (this.#remotes.size >= this.#opts.maxRemotes) return undefined;
    r = new UdpRemote(this, address, port, now, this.#opts);
    this.#remotes.set(key, r);
    this.#armSweep();
    return r;
  }

  /** Sends an answer (R set) and keeps it for retransmitted requests. */
  answer(remote: UdpRemote, m: OutgoingMessage): void {
    const datagrams = fragmentMessage(encodeMessage(m), this.#opts.maxDatagramBytes);
    for (const d of datagrams) this.#send(remote, d);
    if (m.transactionId === 0) return;
    remote.answers.delete(m.transactionId);
    remote.answers.set(m.transactionId, { datagrams, atMs: this.#deps.clock.monoMs() });
    while (remote.answers.size > this.#opts.responseCacheSize) {
      const oldest = remote.answers.keys().next();
      if (oldest.done) break;
      remote.answers.delete(oldest.value);
    }
  }

  /** Starts a server-initiated transaction: sent now, again at T1, 2·T1, … until acknowledged or given up. */
  initiate(remote: UdpRemote, m: OutgoingMessage): void {
    if (remote.outstanding.size >= this.#opts.maxOutstanding) {
      const oldest = remote.outstanding.entries().next();
      if (!oldest.done) {
        this.#deps.timers.clearTimeout(oldest.value[1].timer);
        remote.outstanding.delete(oldest.value[0]);
        this.counters.givenUp++;
      }
    }
    const o: Outstanding = { datagrams: fragmentMessage(encodeMessage(m), this.#opts.maxDatagramBytes), timer: undefined, retransmits: 0, intervalMs: this.#opts.t1Ms };
    remote.outstanding.set(m.transactionId, o);
    for (const d of o.datagrams) this.#send(remote, d);
    const tid = m.transactionId;
    const retransmit = (): void => {
      if (remote.outstanding.get(tid) !== o) return;
      if (o.retransmits >= this.#opts.maxRetransmits) {
        remote.outstanding.delete(tid);
        this.counters.givenUp++;
        return;
      }
      o.retransmits++;
      this.counters.retransmits++;
      for (const d of o.datagrams) this.#send(remote, d);
      o.intervalMs *= 2;
      o.timer = this.#deps.timers.setTimeout(retransmit, o.intervalMs);
    };
    o.timer = this.#deps.timers.setTimeout(retransmit, o.intervalMs);
  }

  #send(remote: UdpRemote, d: Buffer): void {
    if (this.#socket === undefined || !isIpLiteral(remote.address) || !isUsablePort(remote.port)) return;
    this.#socket.send(d, remote.port, remote.address);
  }

  #armSweep(): void {
    if (this.#sweep !== undefined || this.#closed) return;
    this.#sweep = this.#deps.timers.setTimeout(() => {
      this.#sweep = undefined;
      const now = this.#deps.clock.monoMs();
      for (const [k, r] of this.#remotes) {
        r.reassembler.expire(now);
        for (const [tid, a] of r.answers) if (now - a.atMs >= this.#opts.responseCacheMs) r.answers.delete(tid);
        if (now - r.lastMs >= this.#opts.remoteIdleMs && r.outstanding.size === 0) {
          this.#remotes.delete(k);
          for (const rec of r.seen) rec.peerClosed(r);
        }
      }
      this.#unroutableAnswers.sweep(now);
      if (this.#remotes.size > 0) this.#armSweep();
    }, Math.min(this.#opts.remoteIdleMs, 60_000));
  }

  /** Closes the socket, stops every retransmission and forgets every remote. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.timers.clearTimeout(this.#sweep);
    this.#sweep = undefined;
    for (const r of this.#remotes.values()) {
      for (const o of r.outstanding.values()) this.#deps.timers.clearTimeout(o.timer);
      r.outstanding.clear();
      for (const rec of r.seen) rec.peerClosed(r);
    }
    this.#remotes.clear();
    this.#socket?.close();
    this.#socket = undefined;
  }
}
