import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { H239_PARAM, H239_SUB } from '../support/h323-endpoint/build.ts';
import { H323TestEndpoint } from '../support/h323-endpoint/index.ts';
import type { Received } from '../support/h323-endpoint/types.ts';
import { meetingHarness } from '../support/meeting-harness.ts';
import type { MeetingHarness } from '../support/meeting-harness.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * H.239 through the real server's H.323 edge: a room system (the test endpoint, advertising H.239
 * control) joins a meeting by slow start with tunnelled H.245; Carillon's TCS offers H.239 control;
 * a presentationTokenRequest is answered (the meetings do not hand the content floor to H.323
 * participants yet, so the answer is reject, quoting the request's labels) and the call goes on.
 */

describe('H.239 presentation token on the real H.323 edge', () => {
  let t: TestServer;
  let h: MeetingHarness;
  const events: MeetingEvent[] = [];
  const endpoints: H323TestEndpoint[] = [];

  beforeAll(async () => {
    t = await startTestServer({ h323: 0, h323RtpRange: '5300-5399' });
    h = meetingHarness(t);
    t.server.meetingEvents.on((e) => events.push(e));
  });

  afterAll(async () => {
    for (const e of endpoints) await e.close();
    h.closeAll();
    killAllSipp();
    await t.close();
  });

  const joined = (meetingId: string): number => events.filter((e) => e.type === 'participant-joined' && e.meeting.meetingId === meetingId).length;
  const released = (m: Received): boolean => 'q931' in m && m.q931 === 'releaseComplete';

  it('Carillon’s TCS offers H.239 control; a token request is answered with the labels it quoted; the call stays up', async () => {
    const m = await h.create();
    const ep = new H323TestEndpoint({ name: 'Presenter Room', localAddress: '127.0.0.1' });
    endpoints.push(ep);
    await ep.call({ host: '127.0.0.1', port: t.ports.h323 ?? 0, destination: [{ dialedDigits: m.pin }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'tunnel', h239: true });
    await ep.waitFor((x) => 'q931' in x && x.q931 === 'connect', 10_000);
    await until(() => ep.remoteRtp !== undefined, 10_000);
    await until(() => joined(m.meetingId) === 1, 10_000);

    const tcs = ep.received.find((x) => 'h245' in x && x.h245 === 'terminalCapabilitySet');
    const v = tcs !== undefined && 'h245' in tcs ? tcs.value : undefined;
    const table = v?.choice === 'request' && v.value.choice === 'terminalCapabilitySet' ? (v.value.value.capabilityTable ?? []) : [];
    const h239 = table.find((e) => e.capability?.choice === 'genericControlCapability');
    expect(h239?.capability?.choice === 'genericControlCapability' ? h239.capability.value.capabilityIdentifier : undefined).toEqual({ choice: 'standard', value: [0, 0, 8, 239, 1, 1] });

    ep.requestPresentationToken(42);
    const r = await ep.waitForH239(H239_SUB.presentationTokenResponse, 1, 10_000);
    expect(r.envelope).toBe('genericResponse');
    expect(r.params.get(H239_PARAM.reject)).toBe(true);
    expect(r.params.get(H239_PARAM.terminalLabel)).toBe(ep.h239Labels.terminalLabel);
    expect(r.params.get(H239_PARAM.channelId)).toBe(ep.h239Labels.channelId);
    ep.releasePresentationToken();
    await new Promise((res) => setTimeout(res, 200));
    expect(ep.state).toBe('connected');
    expect(ep.received.some(released)).toBe(false);
    expect(ep.checkEchoes()).toEqual([]);
    await ep.hangup();
  });
});
