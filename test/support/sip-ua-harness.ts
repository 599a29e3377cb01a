import type { HeaderField, LegEndReason, LegEvents, LegFailure, PeerOffer, PeerRequest, SessionBody } from '../../common/call-leg.ts';
import type { Random } from '../../common/random.ts';
import { getHeader } from '../../signaling/sip/message/headers.ts';
import { parseMessage } from '../../signaling/sip/message/parse.ts';
import { serializeMessage } from '../../signaling/sip/message/serialize.ts';
import type { SipHeader, SipMessage, SipRequest, SipResponse } from '../../signaling/sip/message/types.ts';
import { TransactionLayer } from '../../signaling/sip/transaction/transaction-layer.ts';
import { TransportHub } from '../../signaling/sip/transport/transport-hub.ts';
import type { Destination, SendFailure, Source, TransportName } from '../../signaling/sip/transport/types.ts';
import { createResponse } from '../../signaling/sip/ua/responses.ts';
import type { CalleePlacement, SipCalleeLeg } from '../../signaling/sip/ua/sip-callee-leg.ts';
import type { SipCallerLeg } from '../../signaling/sip/ua/sip-caller-leg.ts';
import type { IncomingInvite, SipUserAgentOptions } from '../../signaling/sip/ua/sip-user-agent.ts';
import { SipUserAgent } from '../../signaling/sip/ua/sip-user-agent.ts';
import { ManualTimers } from './manual-timers.ts';
import type { ManualTimerScope } from './manual-timers.ts';

/** One message the fake hub was handed, as it would arrive (copied through the wire format). */
export interface SentMessage {
  readonly msg: SipMessage;
  readonly dest: Destination;
}

/**
 * A TransportHub that sends nothing: it copies every message it is handed through the SIP wire
 * format (serialize, parse) and keeps it, and can fail the next send as a transport would.
 */
export class FakeTransportHub extends TransportHub {
  readonly sent: SentMessage[] = [];
  /** Fails the next send (asynchronously, as transports report). */
  failNext: SendFailure | undefined;
  readonly #locals: Partial<Record<TransportName, { readonly address: string; readonly port: number }>>;

  constructor(locals: Partial<Record<TransportName, { readonly address: string; readonly port: number }>> = DEFAULT_LOCALS) {
    super({ advertisedAddress: '127.0.0.1' });
    this.#locals = locals;
  }

  override local(transport: TransportName): { readonly address: string; readonly port: number } | undefined {
    return this.#locals[transport];
  }

  override send(msg: SipMessage, dest: Destination, onError?: (f: SendFailure) => void): void {
    this.sendRaw(serializeMessage(msg), dest, onError);
  }

  override sendRaw(buf: Buffer, dest: Destination, onError?: (f: SendFailure) => void): void {
    const f = this.failNext;
    if (f !== undefined) {
      this.failNext = undefined;
      if (onError !== undefined) queueMicrotask(() => onError(f));
      return;
    }
    const r = parseMessage(buf);
    if (!r.ok) throw new Error(`Carillon sent an unparseable message: ${r.reason}`);
    this.sent.push({ msg: r.message, dest });
  }

  /** Requests sent, optionally of one method. */
  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const s of this.sent) if (s.msg.kind === 'request' && (method === undefined || s.msg.method === method)) out.push(s.msg);
    return out;
  }

  /** Responses sent, optionally of one status. */
  responses(status?: number): SipResponse[] {
    const out: SipResponse[] = [];
    for (const s of this.sent) if (s.msg.kind === 'response' && (status === undefined || s.msg.status === status)) out.push(s.msg);
    return out;
  }

  /** The last request of a method (throws when none was sent). */
  lastRequest(method: string): SipRequest {
    const all = this.requests(method);
    const last = all[all.length - 1];
    if (last === undefined) throw new Error(`no ${method} was sent`);
    return last;
  }

  /** The last response sent (throws when none was). */
  lastResponse(status?: number): SipResponse {
    const all = this.responses(status);
    const last = all[all.length - 1];
    if (last === undefined) throw new Error(`no response${status === undefined ? '' : ` ${status}`} was sent`);
    return last;
  }

  /** Statuses and methods sent so far, in order ('180', 'INVITE' …). */
  get trace(): string[] {
    return this.sent.map((s) => (s.msg.kind === 'request' ? s.msg.method : String(s.msg.status)));
  }

  clear(): void {
    this.sent.length = 0;
  }
}

const DEFAULT_LOCALS = {
  udp: { address: '127.0.0.1', port: 5060 },
  tcp: { address: '127.0.0.1', port: 5060 },
  tls: { address: '127.0.0.1', port: 5061 },
} as const;

/** Tokens counting up: tags, branches and Call-IDs are predictable and unique. */
export function countingRandom(): Random {
  let n = 0;
  return { token: (len) => `t${String(++n).padStart(Math.max(1, len - 1), '0')}`, float: () => 0.5 };
}

/** One LegEvents callback as it was called. */
export type LegEventRecord =
  | { readonly kind: 'progress'; readonly status: number; readonly reason: string | undefined; readonly body: SessionBody | undefined; readonly crossing: readonly HeaderField[]; readonly reliably: boolean }
  | { readonly kind: 'answered'; readonly status: number; readonly reason: string | undefined; readonly body: SessionBody | undefined; readonly crossing: readonly HeaderField[] }
  | { readonly kind: 'failed'; readonly failure: LegFailure }
  | { readonly kind: 'confirmed'; readonly body: SessionBody | undefined }
  | { readonly kind: 'reoffer'; readonly offer: PeerOffer }
  | { readonly kind: 'request'; readonly request: PeerRequest }
  | { readonly kind: 'refreshed'; readonly body: SessionBody }
  | { readonly kind: 'ended'; readonly reason: LegEndReason; readonly status: number | undefined };

/** A call that only listens: every LegEvents callback is recorded in order. */
export class RecordingLegEvents implements LegEvents {
  readonly log: LegEventRecord[] = [];

  progress(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[], reliably: boolean): void {
    this.log.push({ kind: 'progress', status, reason, body, crossing, reliably });
  }
  answered(status: number, reason: string | undefined, body: SessionBody | undefined, crossing: readonly HeaderField[]): void {
    this.log.push({ kind: 'answered', status, reason, body, crossing });
  }
  failed(failure: LegFailure): void {
    this.log.push({ kind: 'failed', failure });
  }
  confirmed(body: SessionBody | undefined): void {
    this.log.push({ kind: 'confirmed', body });
  }
  reoffer(offer: PeerOffer): void {
    this.log.push({ kind: 'reoffer', offer });
  }
  request(request: PeerRequest): void {
    this.log.push({ kind: 'request', request });
  }
  refreshed(body: SessionBody): void {
    this.log.push({ kind: 'refreshed', body });
  }
  ended(reason: LegEndReason, status?: number): void {
    this.log.push({ kind: 'ended', reason, status });
  }

  /** The kinds recorded, in order. */
  get kinds(): string[] {
    return this.log.map((e) => e.kind);
  }

  /** Every record of one kind. */
  of<K extends LegEventRecord['kind']>(kind: K): Extract<LegEventRecord, { kind: K }>[] {
    const out: Extract<LegEventRecord, { kind: K }>[] = [];
    for (const e of this.log) if (e.kind === kind) out.push(e as Extract<LegEventRecord, { kind: K }>);
    return out;
  }

  /** The last record of one kind (throws when there is none). */
  last<K extends LegEventRecord['kind']>(kind: K): Extract<LegEventRecord, { kind: K }> {
    const all = this.of(kind);
    const e = all[all.length - 1];
    if (e === undefined) throw new Error(`no ${kind} event`);
    return e;
  }
}

export const SDP_OFFER = Buffer.from('v=0\r\no=peer 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n');
export const SDP_ANSWER = Buffer.from('v=0\r\no=carillon 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n');
export const SDP_REOFFER = Buffer.from('v=0\r\no=peer 1 2 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\na=sendonly\r\n');

export function sdp(bytes: Buffer): SessionBody {
  return { contentType: 'application/sdp', bytes };
}

/** A SIP peer at a loopback address: builds what it would send and answers what Carillon sent it. */
export class SipPeer {
  readonly source: Source;
  readonly contact: string;
  #branches = 0;

  constructor(transport: TransportName = 'udp', address = '127.0.0.2', port = 5070, user = 'peer') {
    this.source = { transport, address, port, localAddress: '127.0.0.1', localPort: transport === 'tls' ? 5061 : 5060, ...(transport === 'udp' ? {} : { connectionId: 7 }) };
    this.contact = `<sip:${user}@${address}:${port};transport=${transport}>`;
  }

  #via(): SipHeader {
    return { name: 'via', value: `SIP/2.0/${this.source.transport.toUpperCase()} ${this.source.address}:${this.source.port};branch=z9hG4bKpeer${++this.#branches}` };
  }

  /** A request from this peer with its own Via; `fields` come after Via in order. */
  request(method: string, uri: string, fields: readonly SipHeader[], body: Buffer = Buffer.alloc(0)): SipRequest {
    return { kind: 'request', method, uri, headers: [this.#via(), ...fields.map((f) => ({ name: f.name, value: f.value }))], body };
  }

  /** The same request again, as a retransmission (same Via branch). */
  static retransmission(req: SipRequest): SipRequest {
    return { kind: 'request', method: req.method, uri: req.uri, headers: req.headers.map((h) => ({ ...h })), body: req.body };
  }

  /** A response to a request Carillon sent this peer; dialog-forming ones get this peer's Contact. */
  answer(req: SipRequest, status: number, opts: { toTag?: string; headers?: readonly SipHeader[]; body?: Buffer; contentType?: string; noContact?: boolean } = {}): SipResponse {
    const headers: SipHeader[] = [];
    if (opts.noContact !== true && status > 100 && status < 300 && (req.method === 'INVITE' || req.method === 'UPDATE' || req.method === 'SUBSCRIBE')) headers.push({ name: 'contact', value: this.contact });
    for (const h of opts.headers ?? []) headers.push(h);
    const body = opts.body ?? Buffer.alloc(0);
    if (body.length > 0) headers.push({ name: 'content-type', value: opts.contentType ?? 'application/sdp' });
    return createResponse(req, status, { ...(opts.toTag === undefined ? {} : { toTag: opts.toTag }), headers, body });
  }
}

/** A tag parameter of a From/To value. */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return /;\s*tag\s*=\s*([^;\s>]+)/i.exec(value.slice(Math.max(0, value.lastIndexOf('>'))))?.[1];
}

export function header(msg: SipMessage, name: string): string | undefined {
  return getHeader(msg, name);
}

/** The CSeq number of a message. */
export function cseqNumber(msg: SipMessage): number {
  return Number((getHeader(msg, 'cseq') ?? '').trim().split(/\s+/)[0]);
}

/**
 * The SIP user agent over the real transaction layer and message codec, on a fake hub and manual
 * timers. The user agent's (and its legs') timers are a scope of the clock, counted apart from the
 * transaction layer's.
 */
export class UaHarness {
  readonly timers = new ManualTimers();
  readonly uaTimers: ManualTimerScope = this.timers.scope();
  readonly hub: FakeTransportHub;
  readonly random = countingRandom();
  readonly ua: SipUserAgent;
  readonly tx: TransactionLayer;
  readonly incoming: IncomingInvite[] = [];

  constructor(opts: Partial<Pick<SipUserAgentOptions, 'sessionExpiresSec' | 'minSeSec' | 'onOptions'>> & { hub?: FakeTransportHub; takeCalls?: boolean } = {}) {
    this.hub = opts.hub ?? new FakeTransportHub();
    this.ua = new SipUserAgent({
      hub: this.hub,
      timers: this.uaTimers,
      clock: this.timers,
      random: this.random,
      t1Ms: 500,
      t2Ms: 4000,
      sessionExpiresSec: opts.sessionExpiresSec ?? 1800,
      minSeSec: opts.minSeSec ?? 90,
      onOptions: opts.onOptions,
    });
    this.tx = new TransactionLayer({ sender: this.hub, user: this.ua, timers: this.timers, random: this.random });
    this.ua.attach(this.tx);
    if (opts.takeCalls !== false) this.ua.onInvite = (i) => void this.incoming.push(i);
  }

  /** A message from a peer reaches Carillon (through the wire format, as a transport hands it over). */
  deliver(msg: SipMessage, source: Source): void {
    const r = parseMessage(serializeMessage(msg));
    if (!r.ok) throw new Error(`test built an unparseable message: ${r.reason}`);
    if (r.message.kind === 'request') this.tx.receiveRequest(r.message, source);
    else this.tx.receiveResponse(r.message, source);
  }

  advance(ms: number): void {
    this.timers.advance(ms);
  }

  /** Lets transport failures (reported asynchronously) arrive. */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }
}

/**
 * A caller placing a call through the harness: its INVITE, the caller's leg Carillon made of it,
 * and the requests it sends inside the dialog (From its tag, To Carillon's).
 */
export class CallerPeer {
  readonly h: UaHarness;
  readonly peer: SipPeer;
  readonly callId: string;
  readonly fromTag = 'alice1';
  readonly invite: SipRequest;
  readonly incoming: IncomingInvite | undefined;
  readonly events = new RecordingLegEvents();
  #cseq: number;

  constructor(h: UaHarness, opts: { transport?: TransportName; extra?: readonly SipHeader[]; body?: Buffer | null; callId?: string; cseq?: number; peer?: SipPeer } = {}) {
    this.h = h;
    this.peer = opts.peer ?? new SipPeer(opts.transport ?? 'udp');
    this.callId = opts.callId ?? 'caller-call-1';
    this.#cseq = opts.cseq ?? 1;
    const body = opts.body === null ? Buffer.alloc(0) : (opts.body ?? SDP_OFFER);
    const fields: SipHeader[] = [
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `"Alice" <sip:alice@127.0.0.2>;tag=${this.fromTag}` },
      { name: 'to', value: '<sip:+15550100@127.0.0.1>' },
      { name: 'call-id', value: this.callId },
      { name: 'cseq', value: `${this.#cseq} INVITE` },
      { name: 'contact', value: this.peer.contact },
      ...(opts.extra ?? []),
    ];
    if (body.length > 0) fields.push({ name: 'content-type', value: 'application/sdp' });
    this.invite = this.peer.request('INVITE', 'sip:+15550100@127.0.0.1', fields, body);
    const before = h.incoming.length;
    h.deliver(this.invite, this.peer.source);
    this.incoming = h.incoming[before];
    if (this.incoming !== undefined) this.incoming.leg.events = this.events;
  }

  get leg(): SipCallerLeg {
    const i = this.incoming;
    if (i === undefined) throw new Error('the INVITE made no caller leg');
    return i.leg;
  }

  /** Carillon's tag on this dialog. */
  get carillonTag(): string {
    const d = this.leg.dialog;
    if (d === undefined) throw new Error('no dialog');
    return d.localTag;
  }

  #dialogFields(method: string, cseq: number): SipHeader[] {
    return [
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `"Alice" <sip:alice@127.0.0.2>;tag=${this.fromTag}` },
      { name: 'to', value: `<sip:+15550100@127.0.0.1>;tag=${this.carillonTag}` },
      { name: 'call-id', value: this.callId },
      { name: 'cseq', value: `${cseq} ${method}` },
    ];
  }

  /** A request inside the dialog, with the next CSeq (or the one given). */
  request(method: string, extra: readonly SipHeader[] = [], body: Buffer = Buffer.alloc(0), cseq?: number): SipRequest {
    const seq = cseq ?? ++this.#cseq;
    const fields = this.#dialogFields(method, seq).filter((f) => !extra.some((x) => x.name === f.name));
    if (method !== 'BYE' && method !== 'ACK') fields.push({ name: 'contact', value: this.peer.contact });
    fields.push(...extra);
    if (body.length > 0 && !extra.some((x) => x.name === 'content-type')) fields.push({ name: 'content-type', value: 'application/sdp' });
    return this.peer.request(method, 'sip:127.0.0.1:5060;transport=udp', fields, body);
  }

  /** Sends a request inside the dialog; returns it. */
  send(method: string, extra: readonly SipHeader[] = [], body: Buffer = Buffer.alloc(0), cseq?: number): SipRequest {
    const req = this.request(method, extra, body, cseq);
    this.h.deliver(req, this.peer.source);
    return req;
  }

  /** The ACK for a 2xx of Carillon's (its own transaction: a fresh branch). */
  ack(cseq = 1, body: Buffer = Buffer.alloc(0)): void {
    const fields = this.#dialogFields('ACK', cseq);
    if (body.length > 0) fields.push({ name: 'content-type', value: 'application/sdp' });
    this.h.deliver(this.peer.request('ACK', 'sip:127.0.0.1:5060;transport=udp', fields, body), this.peer.source);
  }

  /** CANCEL of the INVITE (same branch, RFC 3261 §9.1). */
  cancel(): void {
    const headers = this.invite.headers.filter((h) => ['via', 'from', 'to', 'call-id', 'max-forwards'].includes(h.name)).map((h) => ({ ...h }));
    headers.push({ name: 'cseq', value: `${cseqNumber(this.invite)} CANCEL` });
    this.h.deliver({ kind: 'request', method: 'CANCEL', uri: this.invite.uri, headers, body: Buffer.alloc(0) }, this.peer.source);
  }

  /** A response to a request Carillon sent inside this dialog. */
  answer(req: SipRequest, status: number, opts: { headers?: readonly SipHeader[]; body?: Buffer } = {}): void {
    this.h.deliver(this.peer.answer(req, status, opts), this.peer.source);
  }
}

/** Where the callee of CalleePeer listens. */
export const CALLEE_DEST = { transport: 'udp', address: '127.0.0.3', port: 5080 } as const;

/**
 * A callee Carillon calls through the harness: the callee's leg, the INVITEs it sent, and this
 * peer's answers and in-dialog requests (From its tag, To Carillon's).
 */
export class CalleePeer {
  readonly h: UaHarness;
  readonly peer: SipPeer;
  readonly leg: SipCalleeLeg;
  readonly events = new RecordingLegEvents();
  readonly toTag: string;
  #cseq = 100;

  constructor(h: UaHarness, placement: Partial<CalleePlacement> = {}, opts: { transport?: TransportName; toTag?: string; callId?: string } = {}) {
    this.h = h;
    const transport = opts.transport ?? placement.dest?.transport ?? 'udp';
    this.peer = new SipPeer(transport, '127.0.0.3', 5080, 'bob');
    this.toTag = opts.toTag ?? 'bob1';
    const leg = h.ua.calleeLeg(transport, opts.callId ?? 'callee-call-1');
    if (leg === undefined) throw new Error(`no contact for ${transport}`);
    this.leg = leg;
    leg.events = this.events;
    leg.place({
      dest: placement.dest ?? { ...CALLEE_DEST, transport },
      requestUri: placement.requestUri ?? 'sip:+15550100@127.0.0.3:5080',
      origin: placement.origin ?? [
        { name: 'from', value: '"Alice" <sip:alice@127.0.0.2:5070;transport=udp>;tag=alice1' },
        { name: 'to', value: '<sip:+15550100@127.0.0.1>' },
        { name: 'max-forwards', value: '70' },
        { name: 'x-account', value: '42' },
        { name: 'content-type', value: 'application/sdp' },
        { name: 'supported', value: 'foo' },
      ],
      caller: placement.caller,
      offer: 'offer' in placement ? placement.offer : sdp(SDP_OFFER),
      offerReliable: placement.offerReliable ?? true,
      credentials: placement.credentials,
    });
  }

  #invite: SipRequest | undefined;

  /** The last INVITE Carillon sent to set this leg up (not a re-INVITE), even after the hub was cleared. */
  get invite(): SipRequest {
    const setups = this.h.hub.requests('INVITE').filter((r) => tagOf(header(r, 'to')) === undefined);
    const last = setups[setups.length - 1] ?? this.#invite;
    if (last === undefined) throw new Error('no INVITE was sent');
    this.#invite = last;
    return last;
  }

  /** Carillon's tag on this dialog. */
  get carillonTag(): string {
    const t = tagOf(header(this.invite, 'from'));
    if (t === undefined) throw new Error('INVITE without From tag');
    return t;
  }

  /** The callee answers Carillon's last INVITE (or the one given). */
  reply(status: number, opts: { toTag?: string | null; headers?: readonly SipHeader[]; body?: Buffer; to?: SipRequest; noContact?: boolean } = {}): SipResponse {
    const req = opts.to ?? this.invite;
    const toTag = opts.toTag === null ? undefined : (opts.toTag ?? this.toTag);
    const res = this.peer.answer(req, status, { ...(toTag === undefined ? {} : { toTag }), ...(opts.headers === undefined ? {} : { headers: opts.headers }), ...(opts.body === undefined ? {} : { body: opts.body }), ...(opts.noContact === undefined ? {} : { noContact: opts.noContact }) });
    this.h.deliver(res, this.peer.source);
    return res;
  }

  /** Delivers a response the callee built before (a retransmission). */
  resend(res: SipResponse): void {
    this.h.deliver(res, this.peer.source);
  }

  /** A response from the callee to a request Carillon sent it in the dialog. */
  answer(req: SipRequest, status: number, opts: { headers?: readonly SipHeader[]; body?: Buffer } = {}): void {
    this.h.deliver(this.peer.answer(req, status, opts), this.peer.source);
  }

  /** A request from the callee inside the dialog; returns it. */
  send(method: string, extra: readonly SipHeader[] = [], body: Buffer = Buffer.alloc(0), cseq?: number): SipRequest {
    const seq = cseq ?? ++this.#cseq;
    const fields: SipHeader[] = [
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `<sip:+15550100@127.0.0.3>;tag=${this.toTag}` },
      { name: 'to', value: `${header(this.invite, 'from') ?? ''}` },
      { name: 'call-id', value: header(this.invite, 'call-id') ?? '' },
      { name: 'cseq', value: `${seq} ${method}` },
    ];
    if (method !== 'BYE' && method !== 'ACK') fields.push({ name: 'contact', value: this.peer.contact });
    const own = fields.filter((f) => !extra.some((x) => x.name === f.name));
    own.push(...extra);
    if (body.length > 0) own.push({ name: 'content-type', value: 'application/sdp' });
    const req = this.peer.request(method, this.leg.contact.slice(1, -1), own, body);
    this.h.deliver(req, this.peer.source);
    return req;
  }
}
