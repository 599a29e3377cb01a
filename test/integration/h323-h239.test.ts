import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { H239_PARAM, H239_SUB } from '../support/h323-endpoint/build.ts';
import { H323TestEndpoint } from '../support/h323-endpoint/index.ts';
import type { Received } from '../support/h323-endpoint/types.ts';
import { BfcpTestClient, P } from '../support/bfcp-client.ts';
import { answeredSdp, meetingHarness, sleep } from '../support/meeting-harness.ts';
import { freePort } from '../support/ports.ts';
import type { MeetingHarness } from '../support/meeting-harness.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * H.239 through the real server's H.323 edge: a room system (the test endpoint, advertising H.239
 * control) joins a meeting by slow start with tunnelled H.245; Carillon's TCS offers H.239 control;
 * a presentationTokenRequest takes the meeting's content floor — the same floor a SIP room system
 * asks for over BFCP: acknowledged while it is free, rejected while the SIP one presents; a BFCP
 * request while the H.323 one presents waits, and gets the floor when the token is released.
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

  it('Carillon’s TCS offers H.239 control; the token and BFCP share the meeting’s floor; answers quote the request’s labels', async () => {
    const m = await h.create({ JoinTones: false });
    // A SIP room system with a content line and BFCP, and its floor client.
    const sip = await h.dial(m.pin, { payloadType: 0, holdMs: 5000, contentPort: await freePort() });
    const sdp = await answeredSdp(sip, 'm=application');
    const bfcp = await BfcpTestClient.tcp('127.0.0.1', t.ports.bfcp ?? 0, { conferenceId: Number(/a=confid:(\d+)/.exec(sdp)?.[1]), userId: Number(/a=userid:(\d+)/.exec(sdp)?.[1]), waitMs: 10_000 });
    expect((await bfcp.hello()).primitive).toBe(P.HelloAck);
    const presenting = async (): Promise<boolean[]> => {
      const r = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as { Meeting: { Live: { Participants: { Protocol: string; Presenting: boolean }[] } } };
      return r.Meeting.Live.Participants.map((p) => p.Presenting);
    };
    const ep = new H323TestEndpoint({ name: 'Presenter Room', localAddress: '127.0.0.1' });
    endpoints.push(ep);
    await ep.call({ host: '127.0.0.1', port: t.ports.h323 ?? 0, destination: [{ dialedDigits: m.pin }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'tunnel', h239: true });
    await ep.waitFor((x) => 'q931' in x && x.q931 === 'connect', 10_000);
    await until(() => ep.remoteRtp !== undefined, 10_000);
    await until(() => joined(m.meetingId) === 2, 10_000);

    const tcs = ep.received.find((x) => 'h245' in x && x.h245 === 'terminalCapabilitySet');
    const v = tcs !== undefined && 'h245' in tcs ? tcs.value : undefined;
    const table = v?.choice === 'request' && v.value.choice === 'terminalCapabilitySet' ? (v.value.value.capabilityTable ?? []) : [];
    const h239 = table.find((e) => e.capability?.choice === 'genericControlCapability');
    expect(h239?.capability?.choice === 'genericControlCapability' ? h239.capability.value.capabilityIdentifier : undefined).toEqual({ choice: 'standard', value: [0, 0, 8, 239, 1, 1] });

    // The SIP room system presents: the H.323 one's token request is rejected, quoting its labels.
    const first = await bfcp.floorRequest(1);
    await bfcp.waitForStatus('Granted', first.requestId);
    ep.requestPresentationToken(42);
    const r = await ep.waitForH239(H239_SUB.presentationTokenResponse, 1, 10_000);
    expect(r.envelope).toBe('genericResponse');
    expect(r.params.get(H239_PARAM.reject)).toBe(true);
    expect(r.params.get(H239_PARAM.terminalLabel)).toBe(ep.h239Labels.terminalLabel);
    expect(r.params.get(H239_PARAM.channelId)).toBe(ep.h239Labels.channelId);
    expect(await presenting()).toEqual([true, false]);
    // Released: the H.323 room system's next request is acknowledged, and it presents.
    await bfcp.floorRelease(first.requestId);
    await sleep(200);
    ep.requestPresentationToken(42);
    const ok = await ep.waitForH239(H239_SUB.presentationTokenResponse, 2, 10_000);
    expect(ok.params.get(H239_PARAM.acknowledge)).toBe(true);
    expect(await presenting()).toEqual([false, true]);
    // A BFCP request now waits in the queue; the token's release hands the floor over.
    const second = await bfcp.floorRequest(1);
    await bfcp.waitForStatus('Accepted', second.requestId);
    ep.releasePresentationToken();
    await bfcp.waitForStatus('Granted', second.requestId);
    expect(await presenting()).toEqual([true, false]);
    bfcp.close();
    expect(ep.state).toBe('connected');
    expect(ep.received.some(released)).toBe(false);
    expect(ep.checkEchoes()).toEqual([]);
    await ep.hangup();
    expect((await sip.sipp.done).successful).toBe(1);
  });
});
