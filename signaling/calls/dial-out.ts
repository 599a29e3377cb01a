import type { CallLegControl, LegEvents, LegFailure, LegSetup, Placement, PlacementAttempt, SessionBody } from '../../common/call-leg.ts';
import type { TimerHandle, Timers } from '../../common/clock.ts';
import type { NextHop, RouteDecision } from '../../common/route.ts';
import type { LegPlacer } from './trunk-calls.ts';
import { SETUP_GUARD_MS } from './trunk-calls.ts';

/**
 * A meeting's dial-out (Chime's "call me"): one leg Carillon places toward the phone network on
 * the termination path — the carriers routing names for the number, each located place in turn,
 * then the next carrier, on a 408, a 5xx, a timeout or a transport error (never on another 4xx or
 * a 6xx), the same rules as a trunk call's failover — until one answers, one refuses for good, or
 * the setup guard (Timer C and then some) runs out. The meeting sees the leg's events as if there
 * had been one leg: `placed` tells it which leg is current.
 */

export interface DialOutEvents extends LegEvents {
  /** A (new) leg was placed: the current one from now on. */
  placed(leg: CallLegControl): void;
}

export interface DialOutOptions {
  readonly timers: Timers;
  readonly placer: LegPlacer;
  /** Routing's dial-out decision (VoiceConnectorRouter.dialOut). */
  readonly route: (toNumber: string, fromNumber: string | undefined) => RouteDecision;
  /** Carillon's domain, the host of the From and To it writes. */
  readonly domain: string;
}

/** The outcome of starting a dial-out. */
export type DialOutStart = { readonly ok: true; readonly wireCallId: string; readonly cancel: () => void } | { readonly ok: false; readonly reason: 'bad-number' | 'no-route'; readonly message: string };

export class CarrierDialOut {
  readonly #o: DialOutOptions;

  constructor(o: DialOutOptions) {
    this.#o = o;
  }

  /** Starts placing a call to `toNumber` with `offer`; the leg's events go to `events`. */
  start(toNumber: string, fromNumber: string | undefined, offer: SessionBody, events: DialOutEvents): DialOutStart {
    const o = this.#o;
    const decision = o.route(toNumber, fromNumber);
    if (decision.kind !== 'forward') {
      return decision.kind === 'reject' && decision.status === 484 ? { ok: false, reason: 'bad-number', message: 'ToPhoneNumber is not a valid E.164 number' } : { ok: false, reason: 'no-route', message: 'No carrier takes the number' };
    }
    const hops = [decision.hop, ...decision.alternates].filter((h) => o.placer.reachable(h));
    if (hops.length === 0) return { ok: false, reason: 'no-route', message: 'No carrier is reachable' };
    const wireCallId = o.placer.newWireCallId();
    const caller = decision.caller;
    const from = caller?.user ?? 'anonymous';
    const run = new Run(o, hops, {
      origin: [
        { name: 'from', value: `<sip:${from}@${o.domain}>` },
        { name: 'to', value: `<sip:${hops[0]?.user ?? toNumber}@${o.domain}>` },
        { name: 'max-forwards', value: '70' },
      ],
      caller,
      offer,
      offerReliable: false,
      credentials: undefined,
      wireCallId,
    }, events);
    run.next();
    return { ok: true, wireCallId, cancel: () => run.cancel() };
  }
}

/** One dial-out's placements. */
class Run {
  readonly #o: DialOutOptions;
  readonly #hops: NextHop[];
  readonly #setup: LegSetup;
  readonly #events: DialOutEvents;
  #places: PlacementAttempt[] = [];
  #hop: NextHop | undefined;
  #leg: CallLegControl | undefined;
  #settled = false;
  #guard: TimerHandle | undefined;
  #token = 0;

  constructor(o: DialOutOptions, hops: NextHop[], setup: LegSetup, events: DialOutEvents) {
    this.#o = o;
    this.#hops = hops;
    this.#setup = setup;
    this.#events = events;
  }

  /** The next hop, located; false when none is left. */
  next(): boolean {
    const hop = this.#hops.shift();
    if (hop === undefined) return false;
    this.#hop = hop;
    this.#o.timers.clearTimeout(this.#guard);
    this.#guard = this.#o.timers.setTimeout(() => this.#fail({ kind: 'timeout', status: 408, reason: 'Request Timeout', crossing: [] }, true), SETUP_GUARD_MS);
    const located = this.#o.placer.locate(hop);
    if (located instanceof Promise) {
      located.then(
        (p) => this.#located(p),
        () => this.#located({ ok: false, status: 503, reason: 'Next Hop Not Resolvable' }),
      );
    } else {
      this.#located(located);
    }
    return true;
  }

  #located(p: Placement): void {
    if (this.#settled) return;
    if (!p.ok) return void (this.next() || this.#fail({ kind: 'rejected', status: p.status, reason: p.reason, crossing: [] }, true));
    this.#places = [...p.attempts];
    this.#attempt();
  }

  #attempt(): void {
    const place = this.#places.shift();
    if (place === undefined) return void (this.next() || this.#fail({ kind: 'transport', status: 503, reason: 'Next Hop Not Reachable', crossing: [] }, true));
    this.#leg?.close();
    const token = ++this.#token;
    const setup = { ...this.#setup, credentials: this.#hop?.credentials };
    const leg = place.place(setup, this.#wrap(() => token === this.#token));
    if (leg === undefined) return this.#attempt();
    if (token !== this.#token || this.#settled) return leg.close();
    this.#leg = leg;
    this.#events.placed(leg);
  }

  /** The current leg's events, with failover in front of `failed`. */
  #wrap(current: () => boolean): LegEvents {
    const e = this.#events;
    return {
      progress: (...a) => current() && e.progress(...a),
      answered: (...a) => {
        if (!current()) return;
        this.#settle();
        e.answered(...a);
      },
      failed: (f) => {
        if (current()) this.#fail(f, false);
      },
      confirmed: (b) => current() && e.confirmed(b),
      reoffer: (offer) => (current() ? e.reoffer(offer) : offer.refuse({ status: 481 })),
      request: (req) => (current() ? e.request(req) : req.respond(481, undefined, undefined, [])),
      refreshed: (b) => current() && e.refreshed(b),
      ended: (reason, status) => current() && e.ended(reason, status),
    };
  }

  /** A failure before an answer: the same hop's next place (503, 408, timeout, transport), else the next hop, else the end. */
  #fail(f: LegFailure, final: boolean): void {
    if (this.#settled) return;
    if (!final) {
      const sameHop = f.kind === 'timeout' || f.kind === 'transport' || (f.kind === 'rejected' && (f.status === 503 || f.status === 408));
      const nextHop = sameHop || (f.kind === 'rejected' && f.status >= 500 && f.status < 600);
      if (sameHop && this.#places.length > 0) return this.#attempt();
      if (nextHop && this.next()) return;
    }
    this.#settle();
    // A leg still ringing (the guard ran out) is cancelled; one that refused is over already.
    this.#leg?.hangup(undefined);
    this.#leg?.close();
    this.#events.failed(f);
  }

  #settle(): void {
    this.#settled = true;
    this.#o.timers.clearTimeout(this.#guard);
    this.#guard = undefined;
  }

  /** Gives up (the meeting ended first): CANCEL while it rings. */
  cancel(): void {
    if (this.#settled) return;
    this.#settle();
    this.#token++;
    this.#leg?.hangup(undefined);
    this.#leg?.close();
  }
}
