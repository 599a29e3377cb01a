import type { Logger } from 'pino';
import type { CallLegControl, HeaderField, LegFailure, LegSetup, Placement, PlacementAttempt } from '../../common/call-leg.ts';
import type { Clock, Timers } from '../../common/clock.ts';
import { callId as toCallId } from '../../common/ids.ts';
import type { CallId } from '../../common/ids.ts';
import type { Random } from '../../common/random.ts';
import type { CallRouter, MeetingTarget, NextHop } from '../routing/route.ts';
import { calleeEvents, callerEvents, viaMedia } from './bridge.ts';
import type { BridgeHost } from './bridge.ts';
import { Call, hangupCause } from './call.ts';
import type { CallParty, EndReason } from './call.ts';
import type { CallEvents } from './call-events.ts';
import { qualityContextOf } from './call-media.ts';
import type { MediaAnchoring } from './call-media.ts';
import type { CallRefusal, IncomingCall } from '../../common/incoming-call.ts';
import type { RecordingCalls } from './recording-call.ts';

/**
 * Trunk calls: every new call an edge hands over is routed, and — routing said forward — placed
 * at its next hop (each located place in turn, then the alternates: RFC 3263 §4.3 and voice
 * connector failover), its caller and callee joined back to back (bridge.ts) until either hangs
 * up. Recording sessions routing accepted go to the recorder. Nothing here knows a protocol: the
 * legs are CallLegControl, the places come from a LegPlacer.
 */

/** How long a call may wait for an answer after its latest placement: SIP's Timer C (3 min) plus 64·T1 at the default T1. */
export const SETUP_GUARD_MS = 212_000;

/** Where the legs Carillon places go: a protocol's edge. */
export interface LegPlacer {
  /** Whether the edge can send on the hop's transport at all. */
  reachable(hop: NextHop): boolean;
  /** The places the hop's leg may be tried at, in order (an IP literal: at once). */
  locate(hop: NextHop): Placement | Promise<Placement>;
  /** A fresh call identifier for a leg Carillon places. */
  newWireCallId(): string;
}

export interface TrunkCallsOptions {
  readonly timers: Timers;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly router: CallRouter;
  readonly placer: LegPlacer;
  /** Media anchoring (absent: descriptions cross untouched). */
  readonly media?: MediaAnchoring | undefined;
  /** Where calls' events go (metrics, CDRs, logs, streaming). */
  readonly events?: CallEvents | undefined;
  /** Takes meeting dial-ins routing accepted (absent: they get 480). */
  readonly meetings?: MeetingCalls | undefined;
  /** Answers recording sessions routing accepted (absent: they get 488). */
  readonly recorder?: RecordingCalls | undefined;
}

/** Where meeting dial-ins go: a meeting (as attendee or host) or the IVR that asks for one. */
export interface MeetingCalls {
  take(incoming: IncomingCall, target: MeetingTarget): void;
}

/** Counters read at scrape time (STYLE.md 13). */
export interface CallCounters {
  callsStarted: number;
  callsAnswered: number;
  callsFailed: number;
  callsEnded: number;
  /** Final statuses sent to callers, by class (1xx unused). */
  finalByClass: [number, number, number, number, number, number, number];
}

/** A DTMF digit detected in a call's media, in either direction (the meeting IVR listens here). */
export type DtmfListener = (call: Call, side: 'caller' | 'callee', digit: string, durationMs: number) => void;

/** What a call still has to try: the current hop's other places, then the route's other hops. */
interface Pending {
  places: PlacementAttempt[];
  alternates: NextHop[];
  hop: NextHop;
  readonly caller: RouteRequestCaller;
  readonly wireCallId: string;
  /** Counts the attempts made, so an attempt that failed at once is told from the one that replaced it. */
  token: number;
}

type RouteRequestCaller = LegSetup['caller'];

export class TrunkCalls implements BridgeHost {
  readonly opts: TrunkCallsOptions;
  readonly calls = new Map<CallId, Call>();
  readonly counters: CallCounters = { callsStarted: 0, callsAnswered: 0, callsFailed: 0, callsEnded: 0, finalByClass: [0, 0, 0, 0, 0, 0, 0] };
  /** Who hears DTMF digits detected in calls' media. */
  readonly dtmfListeners = new Set<DtmfListener>();
  readonly #pending = new WeakMap<Call, Pending>();
  #draining = false;

  constructor(opts: TrunkCallsOptions) {
    this.opts = opts;
  }

  get draining(): boolean {
    return this.#draining;
  }

  // ---- New calls ----

  /** Takes a new call from an edge: routes it, and places it, records it or refuses it. */
  take(incoming: IncomingCall): void {
    const { events } = this.opts;
    if (this.#draining) return this.#refuse(incoming, { status: 503, retryAfterSec: 30 });
    const decision = this.opts.router.decide(incoming.route);
    if (decision.kind === 'reject') {
      events?.emit({ type: 'refused', trunk: decision.trunk, wireCallId: incoming.wireCallId, status: decision.status, rule: decision.rule, throttled: decision.throttled === true });
      return this.#refuse(incoming, { status: decision.status, reason: decision.reason, challenge: decision.challenge, retryAfterSec: decision.retryAfterSec });
    }
    if (decision.kind === 'meeting') {
      const meetings = this.opts.meetings;
      return meetings === undefined ? this.#refuse(incoming, { status: 480, reason: 'Meetings Not Available' }) : meetings.take(incoming, decision.target);
    }
    if (decision.kind === 'record') {
      const recorder = this.opts.recorder;
      return recorder === undefined ? this.#refuse(incoming, { status: 488, reason: 'Recording Not Available' }) : recorder.take(incoming, decision.trunk);
    }
    const hop = withUser(decision.hop, incoming.route.dialed.user);
    if (!this.opts.placer.reachable(hop)) return this.#refuse(incoming, { status: 503, reason: 'Transport Unavailable' });
    const { random, clock } = this.opts;
    const id = toCallId(random.token(16));
    const call = new Call(id, incoming.leg, incoming.offer, clock.monoMs());
    call.trunk = decision.trunk;
    const wireCallId = this.opts.placer.newWireCallId();
    call.calleeWire = { wireCallId, transport: hop.transport ?? 'udp' };
    this.#pending.set(call, { places: [], alternates: decision.alternates.map((h) => withUser(h, incoming.route.dialed.user)), hop, caller: decision.caller, wireCallId, token: 0 });
    this.calls.set(id, call);
    this.counters.callsStarted++;
    incoming.leg.events = callerEvents(this, call);
    events?.emit({ type: 'started', call: call.summary() });
    const anchoring = this.opts.media;
    if (anchoring !== undefined) {
      call.media = anchoring.open(id, qualityContextOf(incoming, id, anchoring.opts.region, decision.trunk), {
        onTimeout: () => this.end(call, 'media-timeout'),
        onDtmf: (side, digit, durationMs) => {
          for (const l of this.dtmfListeners) l(call, side === 'a' ? 'caller' : 'callee', digit, durationMs);
        },
      }, incoming.route.source.address, incoming.leg.protocol === 'h323' ? { a: 'h323' } : {});
    }
    call.media?.secureTrunk(decision.trunk);
    this.#place(call, hop, true);
  }

  #refuse(incoming: IncomingCall, r: CallRefusal): void {
    incoming.refuse(r);
  }

  /**
   * Places the callee's leg at `hop` — the caller's offer anchored first when `translateOffer` —
   * at the first place the edge locates for it; the other places wait for failover.
   */
  #place(call: Call, hop: NextHop, translateOffer: boolean): void {
    if (translateOffer) {
      return viaMedia(this, call, 'a', call.offer, 'offer', (body) => {
        call.calleeOffer = body;
        this.#place(call, hop, false);
      });
    }
    const pending = this.#pending.get(call);
    if (pending === undefined) return;
    pending.hop = hop;
    pending.places = [];
    call.attempts++;
    this.#guardSetup(call);
    const located = this.opts.placer.locate(hop);
    if (!(located instanceof Promise)) return this.#located(call, located);
    located.then(
      (p) => {
        if (!call.ended) this.#located(call, p);
      },
      () => {
        if (!call.ended) this.#located(call, { ok: false, status: 503, reason: 'Next Hop Not Resolvable', retryAfterSec: 30 });
      },
    );
  }

  #located(call: Call, p: Placement): void {
    const pending = this.#pending.get(call);
    if (pending === undefined) return;
    if (!p.ok) {
      if (this.#failover(call)) return;
      return this.end(call, 'no-route', p.status, p.reason, p.retryAfterSec === undefined ? [] : [{ name: 'retry-after', value: String(p.retryAfterSec) }]);
    }
    const [first, ...rest] = p.attempts;
    if (first === undefined) return void (this.#failover(call) || this.end(call, 'no-route', 503, 'Next Hop Not Resolvable', [{ name: 'retry-after', value: '30' }]));
    pending.places = rest;
    this.#attempt(call, first);
  }

  /** Opens a fresh callee's leg at one place (the one before, if any, is let go). */
  #attempt(call: Call, place: PlacementAttempt): void {
    const pending = this.#pending.get(call);
    if (pending === undefined) return;
    this.#dropCallee(call);
    const setup: LegSetup = {
      origin: call.caller.leg.wire().setupHeaders,
      caller: pending.caller,
      offer: call.calleeOffer ?? call.offer,
      offerReliable: call.caller.leg.reliableProgress,
      credentials: pending.hop.credentials,
      wireCallId: pending.wireCallId,
    };
    const slot: { party?: CallParty } = {};
    const token = ++pending.token;
    const leg = place.place(setup, calleeEvents(this, call, () => slot.party));
    if (leg === undefined) return void (this.#failover(call) || this.end(call, 'no-route', 503, 'Transport Unavailable'));
    if (call.ended || pending.token !== token || call.parties.length > 1) {
      // The attempt failed at once and the call moved on (or ended) meanwhile.
      leg.close();
      return;
    }
    slot.party = { role: 'callee', leg, sent: setup.offer };
    call.parties.push(slot.party);
    call.transition('calling');
  }

  /** Lets go of the current callee's leg (nothing of it answers for the call any more). */
  #dropCallee(call: Call): void {
    const old = call.parties[1];
    if (old === undefined) return;
    call.parties.length = 1;
    old.leg.close();
  }

  /**
   * A caller that no final answer has reached within Timer C and then some of the latest
   * placement gets 408 and the call ends: an answer that was lost, refused, unusable or held back
   * can never leave a caller ringing for ever, nor its ports held.
   */
  #guardSetup(call: Call): void {
    const timers = this.opts.timers;
    timers.clearTimeout(call.setupGuard);
    call.setupGuard = timers.setTimeout(() => {
      call.setupGuard = undefined;
      if (!call.ended && call.finalStatus === undefined) this.end(call, 'timeout', 408);
    }, SETUP_GUARD_MS);
  }

  /**
   * Before any answer: the next place of the same hop on a 503, a 408, a timeout or a transport
   * error (`status` undefined), else the route's next hop on a fresh leg; false when nothing is left.
   */
  #failover(call: Call, status?: number): boolean {
    if (call.ended || call.state === 'ending' || call.state === 'answered' || call.state === 'confirmed' || call.finalStatus !== undefined) return false;
    const pending = this.#pending.get(call);
    if (pending === undefined) return false;
    const again = status === undefined || status === 503 || status === 408 ? pending.places.shift() : undefined;
    if (again !== undefined) {
      this.#attempt(call, again);
      return true;
    }
    const next = pending.alternates.shift();
    if (next === undefined) return false;
    if (!this.opts.placer.reachable(next)) return this.#failover(call);
    this.#dropCallee(call);
    if (next.trunk !== undefined) call.trunk = next.trunk;
    call.calleeWire = { wireCallId: pending.wireCallId, transport: next.transport ?? 'udp' };
    // A voice connector of a group may differ on encryption: the offer is written again for it.
    this.#place(call, next, next.trunk !== undefined && call.media?.secureTrunk(next.trunk) === true);
    return true;
  }

  // ---- BridgeHost ----

  calleeFailed(call: Call, f: LegFailure): void {
    switch (f.kind) {
      case 'timeout':
        return void (this.#failover(call) || this.end(call, 'timeout', 408));
      case 'transport':
        return void (this.#failover(call) || this.end(call, 'transport-error', 503));
      case 'rejected':
        // 408 and 5xx move on to the next place or hop, if the route named one (never 4xx/6xx).
        if ((f.status === 408 || (f.status >= 500 && f.status < 600)) && this.#failover(call, f.status)) return;
        return this.end(call, 'rejected', f.status, f.reason, f.crossing);
      case 'unusable':
        return this.end(call, 'rejected', f.status, f.reason, f.crossing);
      default: {
        const never: never = f.kind;
        return never;
      }
    }
  }

  ringing(call: Call, status: number): void {
    this.opts.events?.emit({ type: 'ringing', call: call.summary(), status });
  }

  calleeAnswered(call: Call): void {
    call.answeredMs = this.opts.clock.monoMs();
    this.counters.callsAnswered++;
    this.opts.events?.emit({ type: 'answered', call: call.summary() });
    call.media?.answered();
  }

  callerFinal(call: Call, status: number): void {
    call.finalStatus = status;
    // The caller has its answer: from here the leg's own timers (its ACK wait) take over.
    this.opts.timers.clearTimeout(call.setupGuard);
    call.setupGuard = undefined;
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 6) this.counters.finalByClass[cls]! += 1;
  }

  updated(call: Call, method: string, fields: readonly HeaderField[]): void {
    this.opts.events?.emit({ type: 'updated', call: call.summary(), method, headers: fields });
  }

  // ---- Teardown ----

  /**
   * Ends a call (idempotent): a final `status` to the caller if it has none yet, and every other
   * leg hung up (CANCEL while it rings, BYE once up) but `except`, the one whose peer ended it;
   * then every timer and table entry of the call released.
   */
  end(call: Call, why: EndReason, status = 500, reason?: string, crossing: readonly HeaderField[] = [], except?: CallLegControl): void {
    if (call.ended) return;
    const cause = hangupCause(why);
    const caller = call.caller.leg;
    if (call.finalStatus === undefined && caller !== except) {
      caller.answer(status, reason, undefined, crossing);
      this.callerFinal(call, status);
      if (status >= 300) this.counters.callsFailed++;
    } else if (caller !== except) {
      caller.hangup(cause);
    }
    for (let i = 1; i < call.parties.length; i++) {
      const leg = (call.parties[i] as CallParty).leg;
      if (leg !== except) leg.hangup(cause);
    }
    this.opts.timers.clearTimeout(call.setupGuard);
    call.setupGuard = undefined;
    call.transition('ending');
    call.transition('ended');
    call.endedMs = this.opts.clock.monoMs();
    call.endReason = why;
    for (const p of call.parties) p.leg.close();
    this.#pending.delete(call);
    const events = this.opts.events;
    void (call.media?.close() ?? Promise.resolve(undefined)).then((record) => events?.emit({ type: 'quality', call: call.summary(), record }));
    this.calls.delete(call.id);
    this.counters.callsEnded++;
    events?.emit({ type: 'ended', call: call.summary(), reason: why, status: call.finalStatus });
    this.opts.logger.debug(
      {
        call: call.id,
        reason: why,
        status: call.finalStatus,
        durationMs: Math.round((call.endedMs ?? 0) - (call.answeredMs ?? call.endedMs ?? 0)),
        setupMs: call.answeredMs === undefined ? undefined : Math.round(call.answeredMs - call.startedMs),
      },
      'call ended',
    );
  }

  /** Stops taking new calls and hangs up every live one (SIGTERM). */
  drain(): void {
    this.#draining = true;
    for (const call of [...this.calls.values()]) this.end(call, 'shutdown', 503);
  }

  stats(): { calls: number } {
    return { calls: this.calls.size };
  }
}

/** The hop asks for the dialed user when it names none (a trunk's next hop needs the number). */
function withUser(hop: NextHop, user: string | undefined): NextHop {
  return hop.user !== undefined || user === undefined || user.length === 0 ? hop : { ...hop, user };
}
