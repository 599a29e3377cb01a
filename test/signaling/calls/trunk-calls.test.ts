import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CallLegControl, LegEvents, LegSetup, OfferOutcome, PeerOffer, Placement, SessionBody } from '../../../common/call-leg.ts';
import { createCryptoRandom } from '../../../common/random.ts';
import { CallEvents } from '../../../signaling/calls/call-events.ts';
import type { CallEvent } from '../../../signaling/calls/call-events.ts';
import { SETUP_GUARD_MS, TrunkCalls } from '../../../signaling/calls/trunk-calls.ts';
import type { LegPlacer } from '../../../signaling/calls/trunk-calls.ts';
import type { CallRefusal, IncomingCall } from '../../../common/incoming-call.ts';
import type { NextHop, RouteDecision, RouteRequest } from '../../../signaling/routing/route.ts';
import { inertLeg } from '../../support/inert-leg.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

/** A leg whose peer the test plays: what the call asked of it is in `asked`, its events are the call's. */
interface ScriptedLeg {
  readonly leg: CallLegControl;
  readonly asked: string[];
  /** Where the placed request went ('host:port'), for a callee's leg. */
  readonly at: string;
  readonly setup: LegSetup | undefined;
  events(): LegEvents;
  /** The next reoffer/relay the call makes on this leg waits for the test to answer it. */
  pending: ((o: OfferOutcome) => void) | undefined;
  /** Whether the leg says an offer is being negotiated on it (its peer's own, say). */
  busy: boolean;
}

function scripted(at: string, setup?: LegSetup, reliable = false): ScriptedLeg {
  const asked: string[] = [];
  const base = inertLeg(`id-${at}`, asked);
  const s: ScriptedLeg = {
    asked,
    at,
    setup,
    pending: undefined,
    busy: false,
    events: () => s.leg.events,
    leg: {
      ...base,
      get negotiating() {
        return s.busy;
      },
      reliableProgress: reliable,
      reoffer: (method, _b, _c, _h, done) => {
        asked.push(`reoffer ${method}`);
        s.pending = done;
      },
      relay: (method, _b, _c, _h, done) => {
        asked.push(`relay ${method}`);
        s.pending = done;
      },
    },
  };
  return s;
}

const SDP = (text: string): SessionBody => ({ contentType: 'application/sdp', bytes: Buffer.from(text) });
const hop = (host: string, port: number): NextHop => ({ transport: 'udp', host, port, user: '+14155550123', headers: [] });

function harness(decision: RouteDecision, locateWith?: (h: NextHop) => Placement | Promise<Placement>) {
  const timers = new ManualTimers();
  const placed: ScriptedLeg[] = [];
  const place = (at: string) => ({
    place(setup: LegSetup, events: LegEvents): CallLegControl {
      const s = scripted(at, setup);
      s.leg.events = events;
      placed.push(s);
      return s.leg;
    },
  });
  const locate = locateWith ?? ((x: NextHop): Placement => ({ ok: true, attempts: [place(`${x.host}:${x.port}`)] }));
  const placer: LegPlacer = { reachable: () => true, locate, newWireCallId: () => 'callee-wire-id' };
  const seen: CallEvent[] = [];
  const events = new CallEvents((err) => {
    throw err;
  });
  events.on((e) => seen.push(e));
  const calls = new TrunkCalls({ timers, clock: timers, random: createCryptoRandom(), logger: pino({ level: 'silent' }), router: { decide: () => decision }, placer, events });
  const refusals: CallRefusal[] = [];
  const caller = scripted('caller', undefined, true);
  const route: RouteRequest = {
    dialed: { user: '+14155550123', host: 'vc.example' },
    caller: { user: '+12065550111', anonymous: false },
    fromUser: '+12065550111',
    source: { address: '10.1.2.3', port: 5060, transport: 'udp' },
    credentials: () => ({ kind: 'absent' }),
    recording: false,
    audioOffer: 'rtp',
  };
  const incoming: IncomingCall = { leg: caller.leg, route, offer: SDP('v=0 offer'), wireCallId: 'caller-wire-id', fromUser: '+12065550111', toUser: '+14155550123', refuse: (r) => void refusals.push(r) };
  return { timers, calls, placed, seen, refusals, caller, take: () => calls.take(incoming), place };
}

const forward = (first: NextHop, ...alternates: NextHop[]): RouteDecision => ({ kind: 'forward', hop: first, alternates, rule: 'test', caller: { user: '+12065550100', anonymous: false } });

describe('trunk calls: routing, placement and failover', () => {
  it('refuses what routing rejects with its status, challenge and Retry-After; places nothing', () => {
    const h = harness({ kind: 'reject', status: 407, rule: 'termination-challenge', challenge: { realm: 'r', stale: false } });
    h.take();
    expect(h.refusals).toEqual([{ status: 407, reason: undefined, challenge: { realm: 'r', stale: false }, retryAfterSec: undefined }]);
    expect(h.placed).toHaveLength(0);
    expect(h.seen.map((e) => e.type)).toEqual(['refused']);
    expect(h.calls.calls.size).toBe(0);
  });

  it('a meeting dial-in goes to the meetings, or gets 480 while none take calls', () => {
    const h = harness({ kind: 'meeting', rule: 'meeting-ivr', target: { kind: 'ivr' } });
    h.take();
    expect(h.refusals).toEqual([{ status: 480, reason: 'Meetings Not Available' }]);
    expect(h.placed).toHaveLength(0);
  });

  it('places the callee with the caller offer, identity and a Call-ID chosen before, and relays ringing and the answer; the caller confirming confirms the callee', () => {
    const h = harness(forward(hop('192.0.2.1', 5060)));
    h.take();
    const [b] = h.placed;
    expect(b?.at).toBe('192.0.2.1:5060');
    expect(b?.setup).toMatchObject({ wireCallId: 'callee-wire-id', caller: { user: '+12065550100' }, offerReliable: true });
    expect(b?.setup?.offer?.bytes.toString()).toBe('v=0 offer');
    expect(h.seen[0]).toMatchObject({ type: 'started', call: { legs: [{ role: 'caller', wireCallId: 'id-caller' }, { role: 'callee', wireCallId: 'callee-wire-id' }] } });
    b?.events().progress(180, 'Ringing', undefined, [], false);
    b?.events().answered(200, 'OK', SDP('v=0 answer'), []);
    expect(h.caller.asked).toEqual(['progress 180', 'answer 200']);
    h.caller.events().confirmed(undefined);
    expect(b?.asked).toContain('confirm');
    expect(h.seen.map((e) => e.type)).toEqual(['started', 'ringing', 'answered']);
    const call = [...h.calls.calls.values()][0];
    expect(call?.state).toBe('confirmed');
    expect(call?.finalStatus).toBe(200);
  });

  it('fails over to the next place on a 503, to the next hop on a 500, never on a 486', () => {
    const h = harness(forward(hop('192.0.2.1', 5060), hop('192.0.2.9', 5060)), (x) => ({ ok: true, attempts: x.host === '192.0.2.1' ? [h.place('first-a'), h.place('first-b')] : [h.place('alternate')] }));
    h.take();
    h.placed[0]?.events().failed({ kind: 'rejected', status: 503, reason: undefined, crossing: [] });
    expect(h.placed.map((p) => p.at)).toEqual(['first-a', 'first-b']);
    // Each attempt keeps the Call-ID chosen for the callee's leg.
    expect(h.placed[1]?.setup?.wireCallId).toBe('callee-wire-id');
    h.placed[1]?.events().failed({ kind: 'rejected', status: 500, reason: undefined, crossing: [] });
    expect(h.placed.map((p) => p.at)).toEqual(['first-a', 'first-b', 'alternate']);
    expect(h.placed[0]?.asked).toContain('close');
    h.placed[2]?.events().failed({ kind: 'rejected', status: 486, reason: 'Busy Here', crossing: [] });
    expect(h.caller.asked).toEqual(['answer 486', 'close']);
    expect(h.seen.find((e) => e.type === 'ended')).toMatchObject({ type: 'ended', reason: 'rejected', status: 486, call: { attempts: 2 } });
  });

  it('an answer Carillon cannot use is not retried elsewhere', () => {
    const h = harness(forward(hop('192.0.2.1', 5060), hop('192.0.2.9', 5060)));
    h.take();
    h.placed[0]?.events().failed({ kind: 'unusable', status: 502, reason: 'Callee Answer Without To Tag', crossing: [] });
    expect(h.placed).toHaveLength(1);
    expect(h.caller.asked[0]).toBe('answer 502');
  });

  it('a hop that cannot be located ends the call with 503 and Retry-After when nothing else is left', async () => {
    const h = harness(forward(hop('pbx.example', 5060)), () => Promise.resolve({ ok: false, status: 503, reason: 'Next Hop Not Resolvable', retryAfterSec: 30 }));
    h.take();
    await Promise.resolve();
    await Promise.resolve();
    expect(h.caller.asked[0]).toBe('answer 503');
    expect(h.seen.find((e) => e.type === 'ended')).toMatchObject({ type: 'ended', reason: 'no-route', status: 503 });
  });

  it('the setup guard ends a call no final answer reached, hanging up the callee', () => {
    const h = harness(forward(hop('192.0.2.1', 5060)));
    h.take();
    h.placed[0]?.events().progress(183, undefined, undefined, [], false);
    h.timers.advance(SETUP_GUARD_MS - 1);
    expect(h.calls.calls.size).toBe(1);
    h.timers.advance(1);
    expect(h.caller.asked.at(-2)).toBe('answer 408');
    expect(h.placed[0]?.asked).toEqual(['hangup 408', 'close']);
    expect(h.seen.find((e) => e.type === 'ended')).toMatchObject({ type: 'ended', reason: 'timeout' });
  });

  it('the caller cancelling gets 487 and the ringing callee is hung up', () => {
    const h = harness(forward(hop('192.0.2.1', 5060)));
    h.take();
    h.caller.events().ended('peer-cancel');
    expect(h.caller.asked).toEqual(['answer 487', 'close']);
    expect(h.placed[0]?.asked).toEqual(['hangup', 'close']);
    expect(h.seen.find((e) => e.type === 'ended')).toMatchObject({ type: 'ended', reason: 'caller-cancel', status: 487 });
  });
});

describe('trunk calls: in the established call', () => {
  const up = () => {
    const h = harness(forward(hop('192.0.2.1', 5060)));
    h.take();
    const b = h.placed[0] as ScriptedLeg;
    b.events().answered(200, undefined, SDP('v=0 answer'), []);
    h.caller.events().confirmed(undefined);
    return { ...h, b };
  };

  it('a new offer from either side is offered to the other and answered by its answer, once; the session timers restart', () => {
    const { caller, b, seen } = up();
    const answers: number[] = [];
    const offer: PeerOffer = { method: 'INVITE', body: SDP('v=0 hold'), crossing: [], fields: [{ name: 'cseq', value: '2 INVITE' }], hopsLeft: 69, answer: (s) => void answers.push(s), refuse: (r) => void answers.push(-r.status) };
    caller.events().reoffer(offer);
    expect(b.asked.at(-1)).toBe('reoffer INVITE');
    b.pending?.({ status: 200, reason: undefined, body: SDP('v=0 held'), crossing: [] });
    expect(answers).toEqual([200]);
    expect(caller.asked).toContain('session-updated');
    expect(seen.find((e) => e.type === 'updated')).toMatchObject({ method: 'INVITE', headers: [{ name: 'cseq', value: '2 INVITE' }] });
  });

  it('an offer crossing one the other side is negotiating gets 491, and nothing reaches that side', () => {
    const { caller, b } = up();
    const answers: number[] = [];
    b.busy = true;
    caller.events().reoffer({ method: 'INVITE', body: SDP('x'), crossing: [], fields: [], hopsLeft: 69, answer: (s) => void answers.push(s), refuse: (r) => void answers.push(-r.status) });
    expect(answers).toEqual([-491]);
    expect(b.asked).not.toContain('reoffer INVITE');
  });

  it('an UPDATE crossing an offer the other side is negotiating gets 491 too (RFC 3311 §5.2)', () => {
    const { caller, b } = up();
    const answers: number[] = [];
    b.busy = true;
    caller.events().reoffer({ method: 'UPDATE', body: SDP('x'), crossing: [], fields: [], hopsLeft: 69, answer: (s) => void answers.push(s), refuse: (r) => void answers.push(-r.status) });
    expect(answers).toEqual([-491]);
    b.busy = false;
    caller.events().reoffer({ method: 'UPDATE', body: SDP('x'), crossing: [], fields: [], hopsLeft: 69, answer: (s) => void answers.push(s), refuse: (r) => void answers.push(-r.status) });
    expect(b.asked.at(-1)).toBe('reoffer UPDATE');
  });

  it('a request is passed on and its answer comes back; a timeout ends the call', () => {
    const { caller, b, seen } = up();
    const got: number[] = [];
    caller.events().request({ method: 'INFO', body: undefined, crossing: [], hopsLeft: 69, respond: (s) => void got.push(s) });
    b.pending?.({ status: 200, reason: undefined, body: undefined, crossing: [] });
    expect(got).toEqual([200]);
    caller.events().request({ method: 'INFO', body: undefined, crossing: [], hopsLeft: 69, respond: (s) => void got.push(s) });
    b.pending?.({ status: 408, reason: undefined, body: undefined, crossing: [], failure: 'timeout' });
    expect(got).toEqual([200, 408]);
    expect(seen.find((e) => e.type === 'ended')).toMatchObject({ type: 'ended', reason: 'timeout' });
    expect(b.asked).toContain('hangup 408');
  });

  it('a BYE from one side hangs up the other only', () => {
    const { caller, b, seen } = up();
    b.events().ended('peer-hangup');
    expect(caller.asked).toContain('hangup');
    expect(b.asked).not.toContain('hangup');
    expect(seen.find((e) => e.type === 'ended')).toMatchObject({ type: 'ended', reason: 'callee-bye', status: 200 });
  });

  it('draining hangs every call up with 503 and refuses new ones', () => {
    const h = up();
    h.calls.drain();
    expect(h.b.asked).toContain('hangup 503');
    expect(h.calls.calls.size).toBe(0);
    h.take();
    expect(h.refusals.at(-1)).toMatchObject({ status: 503, retryAfterSec: 30 });
  });
});
