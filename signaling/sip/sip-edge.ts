import type { Logger } from 'pino';
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import type { Random } from '../../common/random.ts';
import type { SocketFactory } from '../../common/sockets.ts';
import { TokenBuckets } from '../../common/token-bucket.ts';
import type { DigestAuth } from '../auth/digest.ts';
import type { NextHop } from '../../common/route.ts';
import { requestUriOf } from './resolve/hop-uri.ts';
import { hopLocate } from './resolve/sip-resolver.ts';
import type { SipLocate } from './resolve/sip-resolver.ts';
import { getFirstListValue, setHeader } from './message/headers.ts';
import { parseMessage } from './message/parse.ts';
import { serializeMessage } from './message/serialize.ts';
import type { SipHeader, SipRequest, SipResponse } from './message/types.ts';
import { parseVia, writeVia } from './message/via.ts';
import { responseDestination } from './transaction/response-destination.ts';
import { TransactionLayer } from './transaction/transaction-layer.ts';
import type { TransactionTimerConfig } from './transaction/types.ts';
import { StreamTransport } from './transport/stream-transport.ts';
import type { StreamLimits } from './transport/stream-transport.ts';
import { TransportHub } from './transport/transport-hub.ts';
import type { Destination, Source, TransportName } from './transport/types.ts';
import { UdpTransport } from './transport/udp-transport.ts';
import { createResponse } from './ua/responses.ts';
import { incomingCallOf } from './ua/sip-intake.ts';
import type { SipIncomingCall } from './ua/sip-intake.ts';
import { SipPlacer } from './ua/sip-placer.ts';
import { SipUserAgent } from './ua/sip-user-agent.ts';

export interface EdgeConfig {
  readonly bindAddress: string;
  /** Address written in Via/Contact; defaults to the bind address (or a local one for 0.0.0.0). */
  readonly advertisedAddress: string;
  /** Listening ports; 0 picks a free one, -1 disables the transport. */
  readonly sipUdp: number;
  readonly sipTcp: number;
  readonly sipTls: number;
  readonly tls: { readonly cert: string; readonly key: string; readonly verifyServer: boolean; readonly ca?: string } | undefined;
  readonly timers: TransactionTimerConfig;
  readonly maxMessageBytes: number;
  readonly stream: StreamLimits;
  /** Requests per second per source IP before 503 (burst allows short peaks). */
  readonly rateLimit: { readonly requestsPerSec: number; readonly burst: number };
  readonly sessionExpiresSec: number;
  readonly minSeSec: number;
}

export interface EdgeDeps {
  readonly sockets: SocketFactory;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** RFC 3263: a target URI → the hops to try (resolve/sip-resolver.ts). */
  readonly locate: SipLocate;
  /** Verifies callers' digest credentials (Proxy-Authorization) and writes challenges. */
  readonly digest: DigestAuth;
  /** Told of every out-of-dialog OPTIONS. */
  readonly onOptions?: ((req: SipRequest, source: Source) => void) | undefined;
  /** Sees every SIP message received (parsed ones) and sent, as bytes (SIP message logs). */
  readonly sipTap?: ((buf: Buffer) => void) | undefined;
}

/** Counters for /metrics and tests. */
export interface EdgeCounters {
  messagesReceived: number;
  requestsReceived: number;
  responsesReceived: number;
  parseErrors: number;
  badRequestsAnswered: number;
  /** Unparseable messages with nothing to answer to (responses, or requests without a usable start line or Via). */
  unanswerable: number;
  misroutedResponses: number;
  rateLimited: number;
}

export interface SipStats {
  readonly transactions: number;
  readonly clientTransactions: number;
  readonly serverTransactions: number;
  readonly dialogs: number;
  readonly connections: number;
}

const SWEEP_MS = 30_000;

const ALL_TRANSPORTS: ReadonlySet<TransportName> = new Set(['udp', 'tcp', 'tls']);

/**
 * The SIP edge: transports → message parsing → per-source rate limit → transactions → the SIP
 * user agent, whose new calls go to `onCall` (the call layer) and whose placed legs come from
 * `placer`. Owns every listener and closes them on close().
 */
export class SipEdge {
  readonly #cfg: EdgeConfig;
  readonly #deps: EdgeDeps;
  readonly hub: TransportHub;
  readonly transactions: TransactionLayer;
  readonly ua: SipUserAgent;
  /** Where the call layer places its SIP legs. */
  readonly placer: SipPlacer;
  /** Who takes new calls (absent: every INVITE is refused with 503). */
  onCall: ((call: SipIncomingCall) => void) | undefined;
  readonly #udp: UdpTransport | undefined;
  readonly #tcp: StreamTransport | undefined;
  readonly #tls: StreamTransport | undefined;
  readonly #buckets: TokenBuckets;
  #sweep: TimerHandle | undefined;
  #closed = false;
  readonly counters: EdgeCounters = {
    messagesReceived: 0,
    requestsReceived: 0,
    responsesReceived: 0,
    parseErrors: 0,
    badRequestsAnswered: 0,
    unanswerable: 0,
    misroutedResponses: 0,
    rateLimited: 0,
  };

  constructor(cfg: EdgeConfig, deps: EdgeDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    const onMessage = (buf: Buffer, source: Source): void => this.#onMessage(buf, source);
    if (cfg.sipUdp >= 0) {
      this.#udp = new UdpTransport({ sockets: deps.sockets, bindAddress: cfg.bindAddress, port: cfg.sipUdp, onDatagram: onMessage });
    }
    const streamBase = { sockets: deps.sockets, timers: deps.timers, bindAddress: cfg.bindAddress, limits: cfg.stream, onMessage };
    if (cfg.sipTcp >= 0) this.#tcp = new StreamTransport({ ...streamBase, kind: 'tcp', port: cfg.sipTcp });
    if (cfg.sipTls >= 0 && cfg.tls !== undefined) this.#tls = new StreamTransport({ ...streamBase, kind: 'tls', port: cfg.sipTls, tls: cfg.tls });
    this.hub = new TransportHub({
      ...(this.#udp === undefined ? {} : { udp: this.#udp }),
      ...(this.#tcp === undefined ? {} : { tcp: this.#tcp }),
      ...(this.#tls === undefined ? {} : { tls: this.#tls }),
      advertisedAddress: cfg.advertisedAddress,
      tap: deps.sipTap,
    });
    this.ua = new SipUserAgent({
      hub: this.hub,
      timers: deps.timers,
      clock: deps.clock,
      random: deps.random,
      t1Ms: cfg.timers.t1Ms,
      t2Ms: cfg.timers.t2Ms,
      sessionExpiresSec: cfg.sessionExpiresSec,
      minSeSec: cfg.minSeSec,
      onOptions: deps.onOptions,
    });
    this.ua.onInvite = (inv) => {
      const take = this.onCall;
      if (take === undefined) {
        inv.leg.answer(503, 'Service Unavailable', undefined, []);
        return inv.leg.close();
      }
      const incoming = incomingCallOf(inv.leg, inv.request, inv.source, deps.digest, () => void this.ua.counters.rejectedRequests++);
      if (incoming !== undefined) take(incoming);
    };
    this.placer = new SipPlacer(this.ua, this.hub, deps.locate);
    this.transactions = new TransactionLayer({
      sender: this.hub,
      user: this.ua,
      timers: deps.timers,
      random: deps.random,
      config: cfg.timers,
    });
    this.ua.attach(this.transactions);
    this.#buckets = new TokenBuckets(cfg.rateLimit.requestsPerSec, cfg.rateLimit.burst);
  }

  /** Opens every enabled listener; resolves with the ports chosen. */
  async start(): Promise<{ udp: number | null; tcp: number | null; tls: number | null }> {
    const udp = this.#udp === undefined ? null : await this.#udp.listen();
    const tcp = this.#tcp === undefined ? null : await this.#tcp.listen();
    const tls = this.#tls === undefined ? null : await this.#tls.listen();
    const adv = this.#cfg.advertisedAddress;
    for (const t of ['udp', 'tcp', 'tls'] as const) {
      const local = this.hub.local(t);
      if (local === undefined) continue;
      this.ua.ownSentBy.add(`${adv.includes(':') ? `[${adv}]` : adv}:${local.port}`);
    }
    const sweep = (): void => {
      this.#buckets.sweep(this.#deps.clock.monoMs());
      this.#sweep = this.#deps.timers.setTimeout(sweep, SWEEP_MS);
    };
    this.#sweep = this.#deps.timers.setTimeout(sweep, SWEEP_MS);
    return { udp, tcp, tls };
  }

  #onMessage(buf: Buffer, source: Source): void {
    if (this.#closed) return;
    this.counters.messagesReceived++;
    // RFC 5626 keep-alives over UDP (CRLF or a STUN binding) carry no SIP.
    if (buf.length <= 4 && (buf[0] === 0x0d || buf[0] === 0x0a)) return;
    const parsed = parseMessage(buf, { maxBytes: this.#cfg.maxMessageBytes });
    if (!parsed.ok) {
      this.counters.parseErrors++;
      const partial = parsed.partial;
      if (partial === undefined) {
        this.counters.unanswerable++;
        return;
      }
      if (partial.method === 'ACK') return; // never answer an ACK
      if (!this.#admit(source)) return;
      this.#answerStateless(partial, source, parsed.status, parsed.reason);
      return;
    }
    const msg = parsed.message;
    this.#deps.sipTap?.(buf);
    if (msg.kind === 'request') {
      this.counters.requestsReceived++;
      if (!this.#admit(source)) {
        if (msg.method !== 'ACK') this.#answerStateless(msg, source, 503, undefined, [{ name: 'retry-after', value: '5' }]);
        return;
      }
      stampReceived(msg, source);
      this.transactions.receiveRequest(msg, source);
    } else {
      this.counters.responsesReceived++;
      if (!this.#isOurs(msg)) {
        // RFC 3261 §18.1.2: a response whose top Via isn't ours is discarded.
        this.counters.misroutedResponses++;
        return;
      }
      this.transactions.receiveResponse(msg, source);
    }
  }

  /** Per-source rate limit; counts refusals. */
  #admit(source: Source): boolean {
    if (this.#buckets.take(source.address, this.#deps.clock.monoMs())) return true;
    this.counters.rateLimited++;
    return false;
  }

  #isOurs(res: SipResponse): boolean {
    const top = getFirstListValue(res, 'via');
    if (top === undefined) return false;
    const via = parseVia(top);
    if (via === undefined) return false;
    return this.ua.ownSentBy.has(`${via.host}:${via.port ?? 5060}`);
  }

  /**
   * Answers outside any transaction: a malformed request (400 with a Warning naming the fault,
   * RFC 3261 §21.4.1/§20.43) or a rate-limited one (503 + Retry-After). A request whose top Via
   * cannot be read (a port of 0, a host that is no host) is answered where it came from, its Via
   * copied as it was: the sender still learns what was wrong.
   */
  #answerStateless(req: SipRequest, source: Source, status: number, reason: string | undefined, headers: SipHeader[] = []): void {
    const top = getFirstListValue(req, 'via');
    if (top === undefined) return; // a response must copy a Via (RFC 3261 §8.2.6.2): nothing to answer with
    if (reason !== undefined) {
      // eslint-disable-next-line no-control-regex -- control characters are what this looks for
      headers.push({ name: 'warning', value: `399 carillon "${reason.replace(/["\\\x00-\x1f\x7f]/g, '')}"` });
    }
    if (status >= 400 && status < 500) this.counters.badRequestsAnswered++;
    stampReceived(req, source);
    const res = createResponse(req, status, { toTag: this.#deps.random.token(10), headers });
    const via = parseVia(getFirstListValue(req, 'via') ?? '');
    const dest: Destination =
      via !== undefined
        ? responseDestination(via, source)
        : source.connectionId === undefined
          ? { transport: source.transport, address: source.address, port: source.port }
          : { transport: source.transport, address: source.address, port: source.port, connectionId: source.connectionId };
    this.hub.sendRaw(serializeMessage(res), dest);
  }

  /**
   * Whether a hop's peer is there: OPTIONS at each place RFC 3263 finds for it (a name with a port
   * means A records, §4.2), in the order a call would try them; the first final status, or
   * undefined when none answered.
   */
  async probe(hop: NextHop): Promise<number | undefined> {
    const uri = requestUriOf(hop);
    const loc = await hopLocate(this.#deps.locate)(hop, ALL_TRANSPORTS);
    for (const place of loc.ok ? loc.hops : []) {
      const status = await this.ping(place, uri);
      if (status !== undefined) return status;
    }
    return undefined;
  }

  /**
   * Sends an out-of-dialog OPTIONS to `dest` (a route or carrier health check) and resolves with
   * the final status, or undefined when nothing answered in time or it could not be sent.
   */
  ping(dest: Destination, uri: string): Promise<number | undefined> {
    const random = this.#deps.random;
    const local = this.hub.local(dest.transport);
    const host = local?.address ?? this.#cfg.advertisedAddress;
    const req: SipRequest = {
      kind: 'request',
      method: 'OPTIONS',
      uri,
      headers: [
        { name: 'max-forwards', value: '70' },
        { name: 'from', value: `<sip:ping@${host}>;tag=${random.token(10)}` },
        { name: 'to', value: `<${uri}>` },
        { name: 'call-id', value: random.token(20) },
        { name: 'cseq', value: '1 OPTIONS' },
        { name: 'accept', value: 'application/sdp' },
      ],
      body: Buffer.alloc(0),
    };
    return new Promise((resolve) => {
      this.transactions.sendRequest(req, dest, {
        onResponse: (res) => {
          if (res.status >= 200) resolve(res.status);
        },
        onTimeout: () => resolve(undefined),
        onTransportError: () => resolve(undefined),
      });
    });
  }

  stats(): SipStats {
    const t = this.transactions.counts();
    return {
      transactions: t.client + t.server,
      clientTransactions: t.client,
      serverTransactions: t.server,
      dialogs: this.ua.dialogCount,
      connections: (this.#tcp?.connectionCount ?? 0) + (this.#tls?.connectionCount ?? 0),
    };
  }

  /** TCP and TLS connection counters, summed over both transports. */
  streamCounters(): { refused: number; framingErrors: number; connectFailures: number; deadlinesMissed: number } {
    const out = { refused: 0, framingErrors: 0, connectFailures: 0, deadlinesMissed: 0 };
    for (const t of [this.#tcp, this.#tls]) {
      if (t === undefined) continue;
      out.refused += t.counters.refused;
      out.framingErrors += t.counters.framingErrors;
      out.connectFailures += t.counters.connectFailures;
      out.deadlinesMissed += t.counters.deadlinesMissed;
    }
    return out;
  }

  /** Local port of a transport, once listening. */
  port(t: TransportName): number | null {
    return this.hub.local(t)?.port ?? null;
  }

  /**
   * Closes the listeners once the requests Carillon sent (the BYEs and CANCELs of a drain) have
   * their answers, or `drainMs` passed.
   */
  async close(drainMs = 5_000): Promise<void> {
    if (this.#closed) return;
    const { clock, timers } = this.#deps;
    const until = clock.monoMs() + drainMs;
    while (clock.monoMs() < until && this.transactions.counts().client > 0) await new Promise<void>((resolve) => timers.setTimeout(resolve, 50));
    this.#closed = true;
    this.#deps.timers.clearTimeout(this.#sweep);
    this.transactions.close();
    await Promise.all([this.#udp?.close(), this.#tcp?.close(), this.#tls?.close()]);
  }
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: the server transport adds `received` with the source
 * address, and fills an empty `rport` with the source port, on the topmost Via. A `received`
 * or `rport` the peer wrote itself is replaced with what Carillon saw: responses never go where
 * a request merely says (a reflection), nor to a port a socket cannot send to.
 */
export function stampReceived(req: SipRequest, source: Source): void {
  const hs = req.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i] as SipHeader;
    if (h.name !== 'via') continue;
    const comma = h.value.indexOf(',');
    const first = comma < 0 ? h.value : (getFirstListValue(req, 'via') ?? h.value);
    const via = parseVia(first);
    if (via === undefined) return;
    const rport = via.params.get('rport');
    const received = via.params.get('received');
    let changed = false;
    if ((via.host !== source.address && `[${source.address}]` !== via.host) || (received !== undefined && received !== source.address)) {
      via.params.set('received', source.address);
      changed = true;
    }
    if (rport !== undefined && rport !== String(source.port)) {
      via.params.set('received', source.address);
      via.params.set('rport', String(source.port));
      changed = true;
    }
    if (!changed) return;
    const rest = comma < 0 ? '' : h.value.slice(h.value.indexOf(first) + first.length);
    h.value = writeVia(via) + rest;
    return;
  }
}

export { setHeader };
