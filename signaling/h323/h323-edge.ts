/**
 * The H.323 edge: call signalling on TCP 1720 (TPKT, Q.931, H.225.0), one call per connection.
 * A Setup becomes an H.323 leg (call/h323-leg.ts) and an IncomingCall for the call layer, the
 * same hand-over the SIP edge makes, so meetings and trunks take H.323 callers unchanged. Bad
 * bytes end the connection (framing) or get a ReleaseComplete (a Setup Carillon cannot read);
 * every bound is the listener's (connections per source, frame deadline, idle) or a call's
 * (time to Setup, to the answer, to H.245 media).
 */
import type { Logger } from 'pino';
import type { HeaderField } from '../../common/call-leg.ts';
import type { TimerHandle, Timers } from '../../common/clock.ts';
import type { CallRefusal, IncomingCall } from '../../common/incoming-call.ts';
import type { SocketFactory } from '../../common/sockets.ts';
import type { RouteRequest } from '../../common/route.ts';
import type { AliasAddress } from './asn/h225.ts';
import { H323_UserInformation } from './asn/h225.ts';
import { decode } from './per/index.ts';
import type { PerLimits } from './per/index.ts';
import { CAUSE, causeName, causeOfSipStatus } from './q931/causes.ts';
import { decodeQ931, ieOf, IE, Q931_TYPE, readDisplay, readPartyNumber, readUserUser } from './q931/q931.ts';
import type { Q931Message } from './q931/q931.ts';
import { encodeTpkt, Q931_MAX_PAYLOAD, TpktReader } from './q931/tpkt.ts';
import { DEFAULT_TPKT_LIMITS, TpktEndpoint } from './transport/tpkt-listener.ts';
import type { TpktConnection, TpktLimits } from './transport/tpkt-listener.ts';
import { destinationOf } from './call/aliases.ts';
import type { Alias } from './call/aliases.ts';
import type { TransportAddr } from './call/fast-connect.ts';
import { releaseComplete } from './call/h225-messages.ts';
import { H323CallerLeg } from './call/h323-leg.ts';
import type { H323Setup } from './call/h323-leg.ts';

export interface H323EdgeOptions {
  readonly bindAddress: string;
  /** The address Carillon gives for its H.245 listeners. */
  readonly advertisedAddress: string;
  readonly port: number;
  /** The domain an alias without one is dialed at (meeting dial-in). */
  readonly domain: string;
  readonly limits?: Partial<TpktLimits>;
  /** A Setup must come this soon after the connection opens. */
  readonly setupDeadlineMs?: number;
  readonly answerMs?: number;
  readonly h245SetupMs?: number;
}

export interface H323EdgeDeps {
  readonly sockets: SocketFactory;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Random in [0, 1). */
  readonly draw: () => number;
}

/** Counters the metrics read. */
export interface H323Counters {
  setups: number;
  answered: number;
  /** Calls Carillon or the peer ended before an answer, by Q.931 cause name. */
  failures: Map<string, number>;
  malformed: number;
  statusAnswers: number;
}

/** PER bounds for peer messages: a frame's size, nesting Carillon's types never need. */
const PEER_PER_LIMITS: PerLimits = { maxBytes: Q931_MAX_PAYLOAD, maxDepth: 48, maxElements: 20_000 };

function aliasOf(a: AliasAddress): Alias {
  switch (a.choice) {
    case 'dialedDigits':
    case 'h323-ID':
    case 'url-ID':
    case 'email-ID':
      return { kind: a.choice, value: a.value };
    case 'partyNumber':
      return { kind: 'partyNumber', value: a.value.choice === 'e164Number' ? a.value.value.publicNumberDigits : 'value' in a.value && typeof a.value.value === 'string' ? a.value.value : '' };
    default:
      return { kind: 'other', value: '' };
  }
}

/** A display name safe inside a SIP quoted string. */
function safeDisplay(s: string | undefined): string | undefined {
  const t = s === undefined ? undefined : [...s].filter((ch) => ch >= ' ' && ch !== '"' && ch !== '\\' && ch !== '\u007f').join('').trim().slice(0, 64);
  return t === undefined || t === '' ? undefined : t;
}

export class H323Edge {
  onCall: (incoming: IncomingCall) => void = (i) => i.refuse({ status: 503 });
  readonly counters: H323Counters = { setups: 0, answered: 0, failures: new Map(), malformed: 0, statusAnswers: 0 };
  readonly #o: H323EdgeOptions;
  readonly #deps: H323EdgeDeps;
  readonly #limits: TpktLimits;
  readonly #listener: TpktEndpoint;
  /** Outgoing H.245 connections (to callers' h245Address). */
  readonly #h245Out: TpktEndpoint;
  readonly #h245Listeners = new Set<TpktEndpoint>();
  readonly #legs = new Set<H323CallerLeg>();
  #closing = false;

  constructor(o: H323EdgeOptions, deps: H323EdgeDeps) {
    this.#o = o;
    this.#deps = deps;
    this.#limits = { ...DEFAULT_TPKT_LIMITS, ...o.limits };
    const framing = { sockets: deps.sockets, timers: deps.timers, framer: () => new TpktReader(Q931_MAX_PAYLOAD), frame: encodeTpkt };
    this.#listener = new TpktEndpoint({ ...framing, limits: this.#limits });
    this.#h245Out = new TpktEndpoint({ ...framing, limits: this.#limits });
  }

  /** Calls in progress or established. */
  get callsActive(): number {
    return this.#legs.size;
  }

  get connections(): number {
    return this.#listener.connections;
  }

  get tpktCounters(): TpktEndpoint['counters'] {
    return this.#listener.counters;
  }

  start(): Promise<number> {
    return this.#listener.listen(this.#o.bindAddress, this.#o.port, (c) => this.accept(c));
  }

  /** Ends every call (ReleaseComplete, cause 16) and stops listening. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const leg of [...this.#legs]) leg.hangup(undefined);
    for (const l of [...this.#h245Listeners]) await l.close();
    await this.#h245Out.close();
    await this.#listener.close();
  }

  /** Takes a call signalling connection (the listener's; tests hand in-process ones to fuzz the same path). */
  accept(c: TpktConnection): void {
    let leg: H323CallerLeg | undefined;
    let deadline: TimerHandle | undefined = this.#deps.timers.setTimeout(() => c.close(), this.#o.setupDeadlineMs ?? 10_000);
    const clearDeadline = (): void => {
      this.#deps.timers.clearTimeout(deadline);
      deadline = undefined;
    };
    c.handler = {
      frame: (payload) => {
        let m: Q931Message;
        try {
          m = decodeQ931(payload);
        } catch {
          this.counters.malformed++;
          // Not Q.931 at all: nothing on this connection can be a call.
          if (leg === undefined) c.close();
          return;
        }
        const per = readUserUser(ieOf(m, IE.userUser));
        const uu = per === undefined ? undefined : decode(H323_UserInformation, per, PEER_PER_LIMITS);
        if (uu !== undefined && !uu.ok) this.counters.malformed++;
        if (leg !== undefined) return leg.onQ931(m, uu?.ok === true ? uu.value : undefined);
        if (m.type !== Q931_TYPE.setup) {
          // A first message that is not a Setup: nothing to answer on a call that does not exist.
          if (m.type === Q931_TYPE.releaseComplete) c.close();
          return;
        }
        clearDeadline();
        if (uu === undefined || !uu.ok || uu.value['h323-uu-pdu']['h323-message-body'].choice !== 'setup' || this.#closing) {
          const cause = this.#closing ? CAUSE.temporaryFailure : CAUSE.invalidIeContents;
          this.#fail(cause);
          c.send(releaseComplete({ callReference: m.callReference, callIdentifier: Buffer.alloc(16), conferenceId: Buffer.alloc(16) }, cause, false));
          c.close();
          return;
        }
        leg = this.#setup(c, { q931: m, uu: uu.value });
      },
      keepalive: () => undefined,
      closed: () => {
        clearDeadline();
        leg?.onConnectionClosed();
      },
    };
  }

  #fail(cause: number): void {
    const name = causeName(cause) ?? String(cause);
    this.counters.failures.set(name, (this.counters.failures.get(name) ?? 0) + 1);
  }

  #setup(c: TpktConnection, setup: H323Setup): H323CallerLeg | undefined {
    this.counters.setups++;
    const body = setup.uu['h323-uu-pdu']['h323-message-body'];
    if (body.choice !== 'setup') return undefined;
    const s = body.value;
    const called = readPartyNumber(ieOf(setup.q931, IE.calledPartyNumber));
    const calling = readPartyNumber(ieOf(setup.q931, IE.callingPartyNumber));
    const dest = destinationOf((s.destinationAddress ?? []).map(aliasOf), called);
    const from = destinationOf((s.sourceAddress ?? []).map(aliasOf), calling);
    const host = dest?.domain ?? this.#o.domain;
    const display = safeDisplay(readDisplay(ieOf(setup.q931, IE.display)) ?? (s.sourceAddress ?? []).map(aliasOf).find((a) => a.kind === 'h323-ID')?.value);
    const callerUser = from?.user;
    const fields: HeaderField[] = [
      { name: 'from', value: `${display === undefined ? '' : `"${display}" `}<sip:${callerUser ?? 'anonymous'}@${c.remote.address.includes(':') ? `[${c.remote.address}]` : c.remote.address}>` },
      { name: 'to', value: `<sip:${dest?.user ?? ''}@${host}>`.replace('<sip:@', '<sip:') },
      { name: 'max-forwards', value: String(Math.min(70, s.hopCount ?? 70)) },
    ];
    let answered = false;
    let refused = false;
    const leg = new H323CallerLeg(
      c,
      setup,
      { progress: () => undefined, answered: () => undefined, failed: () => undefined, confirmed: () => undefined, reoffer: (o) => o.refuse({ status: 488 }), request: (r) => r.respond(200, undefined, undefined, []), refreshed: () => undefined, ended: () => undefined },
      {
        timers: this.#deps.timers,
        logger: this.#deps.logger,
        draw: this.#deps.draw,
        perLimits: PEER_PER_LIMITS,
        answerMs: this.#o.answerMs ?? 180_000,
        h245SetupMs: this.#o.h245SetupMs ?? 30_000,
        connectH245: (to) => this.#connectH245(c, to),
        listenH245: () => this.#listenH245(),
        gone: (l) => {
          this.#legs.delete(l);
          if (!answered && !refused && l.releaseCause !== undefined) this.#fail(l.releaseCause);
        },
        count: (what) => {
          if (what === 'h245-malformed') this.counters.malformed++;
          else this.counters.statusAnswers++;
        },
      },
      fields,
    );
    leg.onAnswered = () => {
      answered = true;
      this.counters.answered++;
    };
    this.#legs.add(leg);
    const route: RouteRequest = {
      dialed: { user: dest?.user, host },
      caller: { user: callerUser, anonymous: false },
      fromUser: callerUser,
      source: { address: c.remote.address, port: c.remote.port, transport: 'tcp' },
      credentials: () => ({ kind: 'absent' }),
      recording: false,
      audioOffer: leg.offer === undefined ? 'none' : 'rtp',
    };
    const incoming: IncomingCall = {
      leg,
      route,
      offer: leg.offer,
      wireCallId: leg.wire().wireCallId,
      fromUser: callerUser,
      toUser: dest?.user,
      refuse: (r: CallRefusal) => {
        refused = true;
        this.#fail(causeOfSipStatus(r.status));
        leg.answer(r.status, r.reason, undefined, []);
        leg.close();
      },
    };
    leg.begin(setup);
    this.#deps.logger.debug({ call: incoming.wireCallId, to: dest?.user, host, from: callerUser, fastStart: leg.offer !== undefined }, 'h323 setup');
    this.onCall(incoming);
    return leg;
  }

  /** The caller's H.245 address, only at the address its call signalling comes from (no third party is ever dialed). */
  #connectH245(c: TpktConnection, to: TransportAddr): Promise<TpktConnection | undefined> {
    if (to.address !== c.remote.address.replace(/^::ffff:/, '')) return Promise.resolve(undefined);
    return this.#h245Out.connect(to.address, to.port, this.#o.bindAddress === '0.0.0.0' || this.#o.bindAddress === '::' ? undefined : this.#o.bindAddress);
  }

  /** A listener for one caller's H.245 connection, on a free port, given up after the H.245 set-up time. */
  async #listenH245(): Promise<{ readonly address: TransportAddr; readonly accepted: Promise<TpktConnection | undefined>; close(): void } | undefined> {
    if (this.#closing) return undefined;
    const ep = new TpktEndpoint({ sockets: this.#deps.sockets, timers: this.#deps.timers, framer: () => new TpktReader(Q931_MAX_PAYLOAD), frame: encodeTpkt, limits: { ...this.#limits, maxConnections: 1 } });
    this.#h245Listeners.add(ep);
    let resolveAccepted: (c: TpktConnection | undefined) => void = () => undefined;
    const accepted = new Promise<TpktConnection | undefined>((r) => {
      resolveAccepted = r;
    });
    let port: number;
    try {
      port = await ep.listen(this.#o.bindAddress, 0, (conn) => resolveAccepted(conn));
    } catch {
      this.#h245Listeners.delete(ep);
      return undefined;
    }
    const timer = this.#deps.timers.setTimeout(() => resolveAccepted(undefined), this.#o.h245SetupMs ?? 30_000);
    let closed = false;
    return {
      address: { address: this.#o.advertisedAddress, port },
      accepted,
      close: () => {
        if (closed) return;
        closed = true;
        this.#deps.timers.clearTimeout(timer);
        resolveAccepted(undefined);
        // Stop listening; an accepted connection lives on in the leg.
        this.#h245Listeners.delete(ep);
        ep.stopListening();
      },
    };
  }
}
