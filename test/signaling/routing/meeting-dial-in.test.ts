import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meetingTargetOf, MeetingDialInRouter } from '../../../signaling/routing/meeting-dial-in.ts';
import type { MeetingDirectory } from '../../../signaling/routing/meeting-dial-in.ts';
import type { RouteDecision, RouteRequest } from '../../../signaling/routing/route.ts';

const directory: MeetingDirectory = {
  meeting: () => undefined,
  meetingOfId: (id) => (id === '1234567890' ? 'm-1' : undefined),
  meetingOfHostId: (id) => (id === '1234567890123' ? 'm-1' : undefined),
  isDialInNumber: (n) => n === '+12065550100',
};
const options = { domains: ['carillon.test', 'meet.carillon.test'], directory, isCarrier: (a: string) => a === '192.0.2.10' };

const request = (user: string | undefined, host: string, address = '10.0.0.5'): RouteRequest => ({
  dialed: { user, host },
  caller: { user: '+12065550111', anonymous: false },
  fromUser: '+12065550111',
  source: { address, port: 5060, transport: 'tls' },
  credentials: () => ({ kind: 'absent' }),
  recording: false,
  audioOffer: 'rtp',
});

const NEXT: RouteDecision = { kind: 'reject', status: 404, rule: 'next' };

describe('meeting dial-in routing', () => {
  it('a 10-digit meeting ID joins its meeting, a 13-digit host ID joins as host, at either meeting domain', () => {
    expect(meetingTargetOf({ user: '1234567890', host: 'carillon.test' }, options)).toEqual({ kind: 'meeting', meetingId: 'm-1', role: 'attendee' });
    expect(meetingTargetOf({ user: '1234567890123', host: 'meet.carillon.test' }, options)).toEqual({ kind: 'meeting', meetingId: 'm-1', role: 'host' });
  });

  it('u@, the bare domain and an ID no meeting has reach the IVR', () => {
    for (const user of ['u', undefined, '0000000000', '0000000000000', '12345']) expect(meetingTargetOf({ user, host: 'carillon.test' }, options)).toEqual({ kind: 'ivr' });
  });

  it('leaves other hosts to the next router, and takes a dial-in number only from a carrier', () => {
    const router = new MeetingDialInRouter({ ...options, domains: ['Carillon.Test'] }, { decide: () => NEXT });
    expect(router.decide(request('1234567890', '192.0.2.1'))).toBe(NEXT);
    expect(router.decide(request('1234567890', 'carillon.test'))).toMatchObject({ kind: 'meeting', rule: 'meeting-attendee' });
    expect(router.decide(request('+12065550100', '192.0.2.1', '192.0.2.10'))).toMatchObject({ kind: 'meeting', rule: 'meeting-dial-in-number', target: { kind: 'ivr' } });
    expect(router.decide(request('12065550100', '192.0.2.1', '192.0.2.10'))).toMatchObject({ kind: 'meeting', target: { kind: 'ivr' } });
    expect(router.decide(request('+12065550100', '192.0.2.1', '10.9.9.9'))).toBe(NEXT);
  });

  it('property: whatever the dialed user, a meeting domain yields a meeting the directory named or the IVR, never a throw', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 64 }), { nil: undefined }), (user) => {
        const t = meetingTargetOf({ user, host: 'carillon.test' }, options);
        expect(t === undefined || t.kind === 'ivr' || t.meetingId === 'm-1').toBe(true);
        if (t?.kind === 'meeting') expect(user === '1234567890' || user === '1234567890123').toBe(true);
      }),
    );
  });
});
