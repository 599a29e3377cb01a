import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { H323TestEndpoint } from '../support/h323-endpoint/index.ts';
import type { CallOptions } from '../support/h323-endpoint/index.ts';
import { kindOf } from '../support/h323-endpoint/types.ts';
import type { Received } from '../support/h323-endpoint/types.ts';
import { meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness, TestParticipant } from '../support/meeting-harness.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * H.323 room systems in meetings: the independent test endpoint (test/support/h323-endpoint)
 * calls Carillon's H.323 listener by the meeting ID, with a SIP participant (SIPp + an RTP peer)
 * in the same meeting; tones must be heard both ways, DTMF by UserInputIndication must reach the
 * IVR, and the call ends with ReleaseComplete. Fast Connect, slow start over tunnelled H.245 and
 * over a separate H.245 connection (Carillon connecting to the caller, and the caller to Carillon).
 */

const HEARD = 1500;
const SILENT = 300;

describe('H.323 callers in meetings', () => {
  let t: TestServer;
  let h: MeetingHarness;
  const events: MeetingEvent[] = [];
  const endpoints: H323TestEndpoint[] = [];

  beforeAll(async () => {
    t = await startTestServer({ h323: 0, h323RtpRange: '5100-5299' });
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

  async function h323Call(o: Partial<CallOptions> & { readonly destination: CallOptions['destination'] }, name = 'Room 1'): Promise<H323TestEndpoint> {
    const ep = new H323TestEndpoint({ name, localAddress: '127.0.0.1' });
    endpoints.push(ep);
    await ep.call({ host: '127.0.0.1', port: t.ports.h323 ?? 0, fastStart: true, audio: ['g711Ulaw64k', 'g711Alaw64k'], h245: 'tunnel', ...o });
    return ep;
  }

  const connected = (m: Received): boolean => 'q931' in m && m.q931 === 'connect';
  const released = (m: Received): boolean => 'q931' in m && m.q931 === 'releaseComplete';

  /** A new meeting with one SIP participant (SIPp, PCMU) in it. */
  async function meetingWithSip(): Promise<{ m: Awaited<ReturnType<MeetingHarness['create']>>; sip: TestParticipant }> {
    const m = await h.create();
    const sip = await h.dial(m.pin, { payloadType: 0 });
    await until(() => joined(m.meetingId) === 1, 10_000);
    return { m, sip };
  }

  /** A slow-start call by the meeting ID: connected, H.245 gave both directions, in the meeting. */
  async function slowStartJoin(m: { readonly pin: string; readonly meetingId: string }, o: Partial<CallOptions>, name: string): Promise<H323TestEndpoint> {
    const ep = await h323Call({ destination: [{ dialedDigits: m.pin }], fastStart: false, ...o }, name);
    await ep.waitFor(connected, 10_000);
    await until(() => ep.remoteRtp !== undefined, 10_000);
    await until(() => joined(m.meetingId) === 2, 10_000);
    return ep;
  }

  /** Tones both ways between an H.323 endpoint and a SIP participant. */
  async function tonesBothWays(ep: H323TestEndpoint, sip: TestParticipant): Promise<void> {
    ep.startTone(1000);
    sip.media.tone(600);
    await until(() => (ep.rtp?.received.length ?? 0) > 50, 10_000);
    await sleep(1000);
    const epMark = ep.rtp?.mark() ?? 0;
    const sipMark = sip.media.mark();
    await sleep(1500);
    const epHears = ep.rtp?.level(600, epMark) ?? 0;
    const epSelf = ep.rtp?.level(1000, epMark) ?? 0;
    const sipHears = sip.media.level(1000, sipMark);
    expect(epHears, `the room system hears the SIP participant (${epHears}, itself ${epSelf})`).toBeGreaterThan(HEARD);
    expect(epSelf).toBeLessThan(SILENT);
    expect(sipHears, `the SIP participant hears the room system (${sipHears})`).toBeGreaterThan(HEARD);
    expect(ep.checkEchoes()).toEqual([]);
  }

  /** The room system hangs up (ReleaseComplete); then the meeting ends and the SIP participant's SIPp ends with Carillon's BYE. */
  async function endByHangup(ep: H323TestEndpoint, meetingId: string, sip?: TestParticipant): Promise<void> {
    const before = events.filter((e) => e.type === 'participant-left').length;
    await ep.hangup();
    await until(() => events.filter((e) => e.type === 'participant-left').length > before, 10_000);
    const left = events.filter((e) => e.type === 'participant-left').at(-1);
    expect(left?.type === 'participant-left' ? left.meeting?.meetingId : undefined).toBe(meetingId);
    if (sip === undefined) return;
    const r = await h.api('POST', `/carillon/v1/meetings/${meetingId}/end`, {});
    expect(r.status).toBeLessThan(300);
    const done = await sip.sipp.done;
    expect(done.successful, done.output.slice(-1500)).toBe(1);
  }

  it('Fast Connect by the meeting ID: Connect answers one proposal per direction, tones both ways, ReleaseComplete ends it', async () => {
    const { m, sip } = await meetingWithSip();
    const ep = await h323Call({ destination: [{ dialedDigits: m.pin }], calledNumber: m.pin });
    await ep.waitFor(connected, 10_000);
    expect(ep.fastStartState).toBe('accepted');
    expect(ep.codec).toBe('g711Ulaw64k');
    // Its media port comes from the H.323 range (this file's 5100–5299), not SIP's.
    expect(ep.remoteRtp?.port).toBeGreaterThanOrEqual(5100);
    expect(ep.remoteRtp?.port).toBeLessThanOrEqual(5299);
    const connect = ep.received.find(connected);
    expect(connect !== undefined && 'q931' in connect ? connect.flag : false).toBe(true);
    // No Bearer capability in Connect (Codian-style peers refuse one).
    expect(connect !== undefined && 'ies' in connect ? connect.ies.some((ie) => ie.id === 0x04) : true).toBe(false);
    await until(() => joined(m.meetingId) === 2, 10_000);
    await tonesBothWays(ep, sip);
    const live = await h.live(m.meetingId);
    expect(live?.Participants?.length).toBe(2);
    const summary = events.find((e) => e.type === 'participant-joined' && e.meeting.meetingId === m.meetingId && e.participant.protocol === 'h323');
    expect(summary, 'the participant event names the protocol').toBeDefined();
    await endByHangup(ep, m.meetingId, sip);
  });

  it('DTMF by UserInputIndication reaches the IVR: the meeting ID + # joins the meeting', async () => {
    const { m, sip } = await meetingWithSip();
    const ep = await h323Call({ destination: [{ h323Id: 'meet' }] }, 'Room 2');
    await ep.waitFor(connected, 10_000);
    await sleep(1500);
    ep.sendDtmf(`${m.pin}#`, 'signal');
    await until(() => joined(m.meetingId) === 2, 15_000);
    await sleep(2000);
    await tonesBothWays(ep, sip);
    await endByHangup(ep, m.meetingId, sip);
  });

  it('slow start through tunnelled H.245: TCS, MSD and one logical channel each way, then tones both ways; alphanumeric UII taken', async () => {
    const { m, sip } = await meetingWithSip();
    const ep = await h323Call({ destination: [{ dialedDigits: m.pin }], fastStart: false, audio: ['g711Alaw64k', 'g711Ulaw64k'] }, 'Room 3');
    await ep.waitFor(connected, 10_000);
    await until(() => ep.remoteRtp !== undefined && ep.remoteChannels.size > 0, 10_000);
    expect(ep.msdRole, 'Carillon (an MCU, terminal type 190) is master').toBe('slave');
    expect(ep.tunnelingAccepted).toBe(true);
    await until(() => joined(m.meetingId) === 2, 10_000);
    await tonesBothWays(ep, sip);
    const kinds = ep.received.map(kindOf);
    for (const k of ['terminalCapabilitySet', 'terminalCapabilitySetAck', 'masterSlaveDetermination', 'masterSlaveDeterminationAck', 'openLogicalChannel', 'openLogicalChannelAck']) expect(kinds, k).toContain(k);
    await endByHangup(ep, m.meetingId, sip);
  });

  it('slow start on a separate H.245 connection Carillon opens to the caller', async () => {
    const { m, sip } = await meetingWithSip();
    const ep = await slowStartJoin(m, { h245: 'separate-we-listen' }, 'Room 4');
    expect(ep.received.some((r) => 'h245' in r && r.via === 'tcp')).toBe(true);
    await tonesBothWays(ep, sip);
    await endByHangup(ep, m.meetingId, sip);
  });

  it('slow start on a separate H.245 connection the caller opens to Carillon (h245Address in Connect)', async () => {
    const { m, sip } = await meetingWithSip();
    const ep = await slowStartJoin(m, { h245: 'separate-they-listen' }, 'Room 5');
    expect(ep.received.some((r) => 'h245' in r && r.via === 'tcp')).toBe(true);
    await tonesBothWays(ep, sip);
    // DTMF over the separate channel is taken too (the digits land in the meeting's collector).
    ep.sendDtmf('5', 'alphanumeric');
    await endByHangup(ep, m.meetingId, sip);
  });

  it('vendor quirks: empty TPKT keep-alives, one tunnelled H.245 PDU per Facility (Cisco IOS style), a Notify mid-call; slow start through the IVR by UII digits', async () => {
    const { m, sip } = await meetingWithSip();
    const ep = await h323Call({ destination: [{ h323Id: 'meet' }], fastStart: false, keepAliveEmptyTpkt: true, onePduPerFacility: true }, 'Room 9');
    await ep.waitFor(connected, 10_000);
    await until(() => ep.remoteRtp !== undefined, 10_000);
    await sleep(1500);
    ep.sendDtmf(`${m.pin}#`, 'signal');
    await until(() => joined(m.meetingId) === 2, 15_000);
    // Polycom-style Notify (notification indicator: user resumed); Carillon takes it without a Status.
    ep.sendTpkt(Buffer.from([0x08, 0x02, (ep.crv >> 8) & 0x7f, ep.crv & 0xff, 0x6e, 0x27, 0x01, 0x81]));
    await sleep(2000);
    await tonesBothWays(ep, sip);
    expect(ep.received.filter((r) => 'q931' in r && r.q931 === 'status')).toHaveLength(0);
    await endByHangup(ep, m.meetingId, sip);
  });

  it('Carillon ends the call when the meeting ends: EndSessionCommand and ReleaseComplete (cause 16)', async () => {
    const m = await h.create();
    const ep = await h323Call({ destination: [{ url: `h323:${m.pin}@carillon.local` }] }, 'Room 6');
    await ep.waitFor(connected, 10_000);
    await until(() => joined(m.meetingId) === 1, 10_000);
    const r = await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/end`, {});
    expect(r.status).toBeLessThan(300);
    await ep.waitFor(released, 10_000);
    expect(ep.releaseCause).toBe(16);
    expect(ep.received.map(kindOf)).toContain('endSessionCommand');
  });

  it('a Status answers StatusEnquiry with the call state (active: 10)', async () => {
    const m = await h.create();
    const ep = await h323Call({ destination: [{ dialedDigits: m.pin }] }, 'Room 7');
    await ep.waitFor(connected, 10_000);
    ep.statusEnquiry();
    const s = await ep.waitFor((x) => 'q931' in x && x.q931 === 'status', 5000);
    const ies = 'ies' in s ? s.ies : [];
    expect(ies.find((ie) => ie.id === 0x14)?.data[0]).toBe(10);
    expect((ies.find((ie) => ie.id === 0x08)?.data[1] ?? 0) & 0x7f).toBe(30);
    await ep.hangup();
    await until(() => (t.server.h323?.callsActive ?? 1) === 0, 10_000);
  });

  it('an unknown destination at another domain is refused with ReleaseComplete; the metrics count attempts, answers and failures by cause', async () => {
    const ep = await h323Call({ destination: [{ email: '5551234@nowhere.example' }] }, 'Room 8');
    await ep.waitFor(released, 10_000);
    expect(ep.releaseCause, 'a refusal maps to a Q.931 cause (RFC 3398)').toBeDefined();
    const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('carillon_h323_call_attempts_total')).toBeGreaterThanOrEqual(8);
    expect(value('carillon_h323_calls_answered_total')).toBeGreaterThanOrEqual(7);
    expect(value('carillon_h323_calls_active')).toBe(0);
    expect(text).toMatch(/^carillon_h323_call_failures_total\{cause="[a-zA-Z]+"\} [1-9]/m);
  });
});
