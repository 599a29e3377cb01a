import type { CallLegControl, HeaderField, LegEndReason, LegEvents, LegFailure, OfferOutcome, PeerOffer, PeerRequest, SessionBody } from '../../common/call-leg.ts';
import type { Call, CallParty, EndReason } from './call.ts';
import type { SdpRole } from './call-media.ts';

/**
 * Two parties of one call joined back to back: what one leg's peer does reaches the other leg —
 * provisional answers, the answer, confirmations, new offers (each answered exactly once, by the
 * other side's answer), requests passed on — every session description through the call's
 * media anchoring on the way, in order. Nothing here knows a signaling protocol.
 */

/** What the bridge needs from the call layer that owns the call. */
export interface BridgeHost {
  /** Ends the call (idempotent); `status`/`reason`/`crossing` are the caller's final answer when it has none yet. */
  end(call: Call, why: EndReason, status?: number, reason?: string, crossing?: readonly HeaderField[], except?: CallLegControl): void;
  /** The callee's leg failed before an answer: try the next place, or end the call. */
  calleeFailed(call: Call, f: LegFailure): void;
  /** The callee's leg rang (first provisional of the attempt). */
  ringing(call: Call, status: number): void;
  /** The callee answered: the caller gets `answer` next. */
  calleeAnswered(call: Call): void;
  /** The caller got its final answer (the setup guard stops; counters). */
  callerFinal(call: Call, status: number): void;
  /** A party changed the session (a new offer crossing the call). */
  updated(call: Call, method: string, fields: readonly HeaderField[]): void;
}

const EMPTY = Buffer.alloc(0);

/** Media sides: 'a' faces the caller, 'b' the callee. */
type Side = 'a' | 'b';

/** RFC 5057 §5.1: final answers to an in-dialog request that end the whole session. */
function endsSession(status: number): boolean {
  return status === 481 || status === 408;
}

/**
 * Passes a session description crossing from `side` through the call's media anchoring (in order,
 * per call) and continues with what Carillon sends on; without anchoring it crosses untouched at
 * once. A description Carillon can't anchor goes to `onFail` (or ends the call).
 */
export function viaMedia(
  host: BridgeHost,
  call: Call,
  side: Side,
  body: SessionBody | undefined,
  role: SdpRole,
  then: (body: SessionBody | undefined) => void,
  onFail?: (status: number, reason: string) => void,
  arm = false,
): void {
  const media = call.media;
  if (media === undefined) return then(body);
  // Even a message without a description waits its turn: what crosses keeps its order.
  media.translate(side, body?.bytes ?? EMPTY, body?.contentType, role, arm).then(
    (r) => {
      if (call.ended) return;
      if (r.ok) then(body === undefined || r.body.length === 0 ? undefined : { contentType: body.contentType, bytes: r.body });
      else if (onFail !== undefined) onFail(r.status, r.reason);
      else host.end(call, 'media-unavailable', r.status, r.reason);
    },
    () => {
      if (!call.ended) host.end(call, 'internal-error', 500);
    },
  );
}

/** The caller's leg's events: what its peer does reaches the call's callee (whichever leg that is now). */
export function callerEvents(host: BridgeHost, call: Call): LegEvents {
  return partyEvents(host, call, () => call.caller, 'a');
}

/** The events of a callee's leg (one per placement attempt; `self` is its party once placed). */
export function calleeEvents(host: BridgeHost, call: Call, self: () => CallParty | undefined): LegEvents {
  return partyEvents(host, call, self, 'b');
}

/** The caller's description is an offer unless its request had none (then Carillon's callee offers). */
function answerRole(call: Call): SdpRole {
  return call.offer === undefined ? 'offer' : 'answer';
}

function partyEvents(host: BridgeHost, call: Call, self: () => CallParty | undefined, side: Side): LegEvents {
  const otherOf = (): CallParty | undefined => (side === 'a' ? call.party('callee') : call.caller);
  return {
    progress(status, reason, body, crossing, reliably) {
      if (side !== 'b' || call.ended) return;
      if (call.state !== 'early' && call.transition('early') && status >= 180) host.ringing(call, status);
      viaMedia(host, call, 'b', body, answerRole(call), (out) => {
        if (out !== undefined) call.caller.sent = out;
        call.caller.leg.progress(status, reason, out, crossing, reliably);
      });
    },
    answered(status, reason, body, crossing) {
      if (side !== 'b' || call.ended) return;
      host.calleeAnswered(call);
      viaMedia(
        host,
        call,
        'b',
        body,
        answerRole(call),
        (out) => {
          const c = call.caller;
          if (out !== undefined) c.sent = out;
          c.leg.answer(status, reason, out, crossing);
          host.callerFinal(call, status);
          call.transition('answered');
        },
        undefined,
        true,
      );
    },
    failed(f) {
      if (side === 'b' && !call.ended) host.calleeFailed(call, f);
    },
    confirmed(body) {
      if (call.ended) return;
      const other = otherOf();
      if (other !== undefined) {
        if (body === undefined) other.leg.confirm(undefined);
        else
          viaMedia(host, call, side, body, 'answer', (out) => {
            if (out !== undefined) other.sent = out;
            other.leg.confirm(out);
          });
      }
      if (call.state === 'answered' && call.transition('confirmed')) for (const p of call.parties) p.leg.sessionUpdated();
    },
    reoffer(offer) {
      const me = self();
      if (me === undefined) return offer.refuse({ status: 491 });
      reoffer(host, call, me, side, otherOf(), offer);
    },
    request(req) {
      pass(host, call, otherOf(), req);
    },
    refreshed(body) {
      // The peer's answer to Carillon's own refresh may move its media: learn it, send nothing on.
      viaMedia(host, call, side, body, 'answer', () => undefined, () => undefined);
    },
    ended(reason, status) {
      if (call.ended) return;
      const why = endReasonOf(reason, side);
      const peerEnded = reason === 'peer-hangup' || reason === 'peer-cancel';
      host.end(call, why, status ?? (peerEnded ? 487 : 500), undefined, [], reason === 'peer-hangup' ? self()?.leg : undefined);
    },
  };
}

function endReasonOf(reason: LegEndReason, side: Side): EndReason {
  switch (reason) {
    case 'peer-hangup':
      return side === 'a' ? 'caller-bye' : 'callee-bye';
    case 'peer-cancel':
      return 'caller-cancel';
    case 'timeout':
    case 'transport-error':
    case 'ack-timeout':
    case 'session-expired':
    case 'refresh-failed':
      return reason;
    default: {
      const never: never = reason;
      return never;
    }
  }
}

/** A new offer from one party (re-INVITE, UPDATE): the other party is offered it, and its answer answers it. */
function reoffer(host: BridgeHost, call: Call, from: CallParty, side: Side, to: CallParty | undefined, offer: PeerOffer): void {
  // A second offer while one is being negotiated on the other side would cross it (RFC 3261 §14.1,
  // RFC 3311 §5.2: 491); the offering leg itself refused one that crosses its own. An UPDATE before
  // the answer (early dialog) goes on: the initial INVITE is still open then by design.
  const crosses = offer.method === 'INVITE' ? call.state !== 'confirmed' || to?.leg.negotiating === true : call.state === 'confirmed' && to?.leg.negotiating === true;
  if (to === undefined || crosses) return offer.refuse({ status: 491 });
  host.updated(call, offer.method, offer.fields);
  viaMedia(
    host,
    call,
    side,
    offer.body,
    'offer',
    (body) => {
      if (call.ended) return offer.refuse({ status: 481 });
      if (body !== undefined) to.sent = body;
      to.leg.reoffer(offer.method, body, offer.crossing, offer.hopsLeft, (o) => answered(host, call, from, side, offer, o));
    },
    (status, reason) => offer.refuse({ status, reason }),
  );
}

function answered(host: BridgeHost, call: Call, from: CallParty, side: Side, offer: PeerOffer, o: OfferOutcome): void {
  if (call.ended) return;
  if (o.failure !== undefined) {
    offer.answer(o.status, undefined, undefined, []);
    return host.end(call, o.failure === 'timeout' ? 'timeout' : 'transport-error');
  }
  const role: SdpRole = offer.body === undefined ? 'offer' : 'answer';
  viaMedia(host, call, side === 'a' ? 'b' : 'a', o.body, role, (body) => {
    if (body !== undefined) from.sent = body;
    offer.answer(o.status, o.reason, body, o.crossing);
    const ok = o.status >= 200 && o.status < 300;
    if (ok) for (const p of call.parties) p.leg.sessionUpdated();
    if (endsSession(o.status)) host.end(call, o.status === 408 ? 'timeout' : 'callee-bye');
  });
}

/** A request passed on to the other party; its answer answers it. */
function pass(host: BridgeHost, call: Call, to: CallParty | undefined, req: PeerRequest): void {
  if (to === undefined || call.ended) return req.respond(481, undefined, undefined, []);
  to.leg.relay(req.method, req.body, req.crossing, req.hopsLeft, (o) => {
    if (o.failure !== undefined) {
      req.respond(o.status, undefined, undefined, []);
      return host.end(call, o.failure === 'timeout' ? 'timeout' : 'transport-error');
    }
    req.respond(o.status, o.reason, o.body, o.crossing);
    if (endsSession(o.status)) host.end(call, o.status === 408 ? 'timeout' : 'callee-bye');
  });
}
