import type { CallLegControl, LegEvents } from '../../common/call-leg.ts';

const QUIET: LegEvents = {
  progress: () => undefined,
  answered: () => undefined,
  failed: () => undefined,
  confirmed: () => undefined,
  reoffer: (o) => o.refuse({ status: 491 }),
  request: (r) => r.respond(481, undefined, undefined, []),
  refreshed: () => undefined,
  ended: () => undefined,
};

/** A leg with no peer behind it: it records what the call asked of it, in order. */
export function inertLeg(wireCallId: string, asked: string[] = []): CallLegControl {
  return {
    protocol: 'sip',
    events: QUIET,
    wire: () => ({ protocol: 'sip', transport: 'udp', wireCallId, remoteTarget: undefined, setupHeaders: [] }),
    reliableProgress: false,
    secureSignaling: false,
    negotiating: false,
    confirmed: false,
    progress: (status) => void asked.push(`progress ${status}`),
    answer: (status) => void asked.push(`answer ${status}`),
    hangup: (cause) => void asked.push(`hangup${cause === undefined ? '' : ` ${cause.status}`}`),
    confirm: () => void asked.push('confirm'),
    reoffer: (method, _b, _c, _h, done) => {
      asked.push(`reoffer ${method}`);
      done({ status: 481, reason: undefined, body: undefined, crossing: [] });
    },
    relay: (method, _b, _c, _h, done) => {
      asked.push(`relay ${method}`);
      done({ status: 481, reason: undefined, body: undefined, crossing: [] });
    },
    sessionUpdated: () => void asked.push('session-updated'),
    close: () => void asked.push('close'),
  };
}
