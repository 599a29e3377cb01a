import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPromptSet } from '../../media/prompts/prompts.ts';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness, TestParticipant } from '../support/meeting-harness.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, startSipp } from '../support/sipp.ts';
import { freePort } from '../support/ports.ts';
import { MeetingPeer } from '../support/meeting-peer.ts';
import { ChimeClient, CreateMeetingDialOutCommand } from '@aws-sdk/client-chime';
import { CreateAttendeeCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { readFileSync } from 'node:fs';
import { readCdrs } from '../support/cdrs.ts';
import path from 'node:path';

/**
 * Meetings dialed over SIP (SIPp signaling, loopback RTP peers for media): straight in by meeting
 * ID, through the IVR (RFC 4733 and SIP INFO digits), moderated meetings (waiting room, passcode,
 * moderator keys), locks and ends by DTMF and by the API.
 */

const HEARD = 1500;
const SILENT = 300;

/** Tone levels each participant hears over the last `ms` of audio. */
async function levels(ps: readonly TestParticipant[], tones: readonly number[], ms = 1500): Promise<number[][]> {
  const marks = ps.map((p) => p.media.mark());
  await sleep(ms);
  return ps.map((p, i) => tones.map((hz) => Math.round(p.media.level(hz, marks[i] as number))));
}

/** Whether the frames received after `mark` contain `frames` in order (pre-encoded prompt frames arrive byte for byte). */
function contains(p: TestParticipant, mark: number, frames: readonly Uint8Array[], count = 10): boolean {
  const got = p.media.rtp.received.slice(mark).map((r) => r.packet.subarray(12));
  const want = frames.slice(0, count);
  for (let i = 0; i + want.length <= got.length; i++) {
    if (want.every((f, k) => Buffer.compare(Buffer.from(f), got[i + k] as Buffer) === 0)) return true;
  }
  return false;
}

describe('meetings over SIP', () => {
  let t: TestServer;
  let h: MeetingHarness;
  const events: MeetingEvent[] = [];

  beforeAll(async () => {
    t = await startTestServer({ meetingDomain: 'meet.carillon.test' });
    h = meetingHarness(t);
    t.server.meetingEvents.on((e) => events.push(e));
  });
  /** Participants that entered a meeting's mix so far. */
  const joined = (meetingId: string): number => events.filter((e) => e.type === 'participant-joined' && e.meeting.meetingId === meetingId).length;

  /** Ends a meeting through the API; every participant's SIPp scenario ends with Carillon's BYE. */
  async function endMeeting(meetingId: string, ps: readonly TestParticipant[]): Promise<void> {
    const r = await h.api('POST', `/carillon/v1/meetings/${meetingId}/end`, {});
    expect(r.status, await r.text()).toBeLessThan(300);
    const done = await Promise.all(ps.map((p) => p.sipp.done));
    for (const d of done) expect(d.successful, d.output.slice(-1500)).toBe(1);
    await until(() => events.some((e) => e.type === 'meeting-ended' && e.meeting.meetingId === meetingId), 10_000);
  }

  afterAll(async () => {
    h.closeAll();
    killAllSipp();
    await t.close();
  });

  it('three participants dialing the meeting ID (UDP and TCP, either meeting domain): each hears the other two and not itself', async () => {
    const m = await h.create();
    const tones = [1000, 600, 1400];
    // One over TCP, one at the separate meeting domain, one at the server's own domain.
    const ps = [await h.dial(m.pin, { payloadType: 0, transport: 'tcp' }), await h.dial(m.pin, { payloadType: 8, domain: 'meet.carillon.test' }), await h.dial(m.pin, { payloadType: 0 })];
    ps.forEach((p, i) => p.media.tone(tones[i] as number));
    await sleep(1000);
    const heard = await levels(ps, tones);
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) {
        if (i === k) expect(heard[i]?.[k], `participant ${i} hears itself: ${JSON.stringify(heard)}`).toBeLessThan(SILENT);
        else expect(heard[i]?.[k], `participant ${i} hears ${k}: ${JSON.stringify(heard)}`).toBeGreaterThan(HEARD);
      }
    }
    const live = await h.live(m.meetingId);
    expect(live?.Participants?.length).toBe(3);
    expect(live?.Participants?.every((p) => p.State === 'in-meeting')).toBe(true);
    await endMeeting(m.meetingId, ps);
  });

  it('the IVR: u@ and RFC 4733 digits of the meeting ID + # join it; the meeting domain and the server domain both work', async () => {
    const m = await h.create();
    const a = await h.dial(m.pin, { payloadType: 0 });
    a.media.tone(1000);
    const b = await h.dial('u', { payloadType: 0 });
    // The welcome prompt plays (pre-encoded frames, byte for byte).
    const en = loadPromptSet('en-US');
    await until(() => contains(b, 0, en.speech('welcome').pcmu), 5000);
    b.media.digits(`${m.pin}#`);
    await until(() => joined(m.meetingId) === 2, 15_000);
    await sleep(2500);
    const heard = await levels([b], [1000]);
    expect(heard[0]?.[0]).toBeGreaterThan(HEARD);
    await endMeeting(m.meetingId, [a, b]);
  });

  it('the IVR takes SIP INFO digits too', async () => {
    const m = await h.create();
    const a = await h.dial(m.pin);
    a.media.tone(600);
    const b = await h.dial('u', { infoDigits: `${m.pin}#`, infoAfterMs: 500, infoGapMs: 80 });
    await until(() => joined(m.meetingId) === 2, 15_000);
    await sleep(2500);
    const heard = await levels([b], [600]);
    expect(heard[0]?.[0]).toBeGreaterThan(HEARD);
    await endMeeting(m.meetingId, [a, b]);
  });

  it('three wrong meeting IDs end with the goodbye prompt and a BYE', async () => {
    const b = await h.dial('u');
    b.media.digits('1111111111#');
    await b.media.digitsSent();
    await sleep(2500);
    b.media.digits('12345678901234567890123456789012345678901#');
    await b.media.digitsSent();
    await sleep(2500);
    const mark = b.media.mark();
    b.media.digits('9#');
    const r = await b.sipp.done;
    expect(r.successful, r.output.slice(-1500)).toBe(1);
    expect(contains(b, mark, loadPromptSet('en-US').speech('goodbye').pcmu)).toBe(true);
  });

  it('a pt-BR meeting speaks pt-BR', async () => {
    const m = await h.create({ Language: 'pt-BR', Moderated: true, ModeratorPasscode: '4321' });
    const b = await h.dial(m.pin);
    const pt = loadPromptSet('pt-BR');
    await until(() => contains(b, 0, pt.speech('waiting-for-host').pcmu), 5000);
    await endMeeting(m.meetingId, [b]);
  });

  it('moderated: participants wait on hold audio until the passcode + #; then mute-all-others, lock and end by DTMF', async () => {
    const m = await h.create({ Moderated: true, ModeratorPasscode: '4321' });
    const a = await h.dial(m.pin);
    const b = await h.dial(m.pin);
    a.media.tone(1000);
    b.media.tone(600);
    await sleep(1500);
    // Waiting: each hears the hold audio, not the other.
    const waiting = await levels([a, b], [1000, 600]);
    expect(waiting[0]?.[1]).toBeLessThan(SILENT);
    expect(waiting[1]?.[0]).toBeLessThan(SILENT);
    const en = loadPromptSet('en-US');
    expect(contains(a, 0, en.speech('waiting-for-host').pcmu)).toBe(true);
    // After the voice cue, the hold audio (its frames, byte for byte).
    await until(() => contains(a, 0, en.tone('hold').pcmu, 5), 15_000);
    expect((await h.live(m.meetingId))?.Started).toBe(false);

    const mod = await h.dial(m.pin);
    mod.media.digits('4321#');
    await mod.media.digitsSent();
    await until(() => events.some((e) => e.type === 'moderator-action' && e.action === 'start' && e.meeting.meetingId === m.meetingId), 5000);
    await sleep(1000);
    const started = await levels([a, b], [1000, 600]);
    expect(started[0]?.[1]).toBeGreaterThan(HEARD);
    expect(started[1]?.[0]).toBeGreaterThan(HEARD);

    // *7: everyone else muted — the moderator hears neither.
    mod.media.digits('*7');
    await mod.media.digitsSent();
    await sleep(800);
    const muted = await levels([mod], [1000, 600]);
    expect(muted[0]?.[0]).toBeLessThan(SILENT);
    expect(muted[0]?.[1]).toBeLessThan(SILENT);

    // *5: locked — a fourth caller hears the refusal and gets a BYE.
    mod.media.digits('*5');
    await mod.media.digitsSent();
    await until(() => events.some((e) => e.type === 'moderator-action' && e.action === 'lock' && e.meeting.meetingId === m.meetingId), 5000);
    const late = await h.dial(m.pin);
    const refused = await late.sipp.done;
    expect(refused.successful, refused.output.slice(-1500)).toBe(1);
    expect(contains(late, 0, loadPromptSet('en-US').speech('meeting-locked-refused').pcmu)).toBe(true);

    // *8 then 1: the meeting ends — every leg gets a BYE (each SIPp scenario waits for it).
    mod.media.digits('*81');
    const ended = await Promise.all([a.sipp.done, b.sipp.done, mod.sipp.done]);
    for (const r of ended) expect(r.successful, r.output.slice(-1500)).toBe(1);
    await until(() => events.some((e) => e.type === 'meeting-ended' && e.meeting.meetingId === m.meetingId && e.reason === 'ended-by-moderator'), 5000);
  });

  it('the API: live view, mute-all-others, lock and end', async () => {
    const m = await h.create();
    const a = await h.dial(m.pin);
    const b = await h.dial(m.pin);
    a.media.tone(1000);
    b.media.tone(600);
    await sleep(800);
    const live = await h.live(m.meetingId);
    const [pa, pb] = live?.Participants ?? [];
    expect(pa).toBeDefined();
    expect((await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/mute-all-others`, { ExceptParticipantId: pa?.ParticipantId })).status).toBeLessThan(300);
    await sleep(800);
    // Only the one left unmuted is heard.
    const after = await levels([a, b], [1000, 600]);
    const aIsPa = (await h.live(m.meetingId))?.Participants?.find((p) => p.ParticipantId === pa?.ParticipantId)?.Muted === false;
    expect(aIsPa).toBe(true);
    void pb;
    expect(Math.max(after[0]?.[1] ?? 0, after[1]?.[0] ?? 0)).toBeGreaterThan(HEARD);
    expect(Math.min(after[0]?.[1] ?? 0, after[1]?.[0] ?? 0)).toBeLessThan(SILENT);
    expect((await h.api('PUT', `/carillon/v1/meetings/${m.meetingId}/lock`, { Locked: true })).status).toBeLessThan(300);
    expect((await h.live(m.meetingId))?.Locked).toBe(true);
    expect((await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/end`, {})).status).toBeLessThan(300);
    const ended = await Promise.all([a.sipp.done, b.sipp.done]);
    for (const r of ended) expect(r.successful).toBe(1);
  });

  it('dial-out: CreateMeetingDialOut calls a number through the carrier, and the answered leg is in the meeting', async () => {
    const m = await h.create();
    const a = await h.dial(m.pin);
    a.media.tone(1000);
    // The carrier: a SIPp UAS answering with its media at a loopback peer.
    const carrierMedia = await MeetingPeer.open(0);
    const carrierPort = await freePort();
    const carrier = startSipp({ scenario: 'uas-media', port: carrierPort, transport: 'udp', calls: 1, injection: [String(carrierMedia.port)], timeoutSec: 60 });
    expect((await h.api('POST', '/carillon/v1/carriers', { Name: 'pstn', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'] })).status).toBe(201);
    const attendee = await h.meetings.send(new CreateAttendeeCommand({ MeetingId: m.meetingId, ExternalUserId: 'caller-1' }));
    const creds = JSON.parse(readFileSync(path.join(t.dataDir, 'admin-credentials.json'), 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
    const legacy = new ChimeClient({ endpoint: `http://127.0.0.1:${t.ports.api}/chime`, region: 'us-east-1', credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey }, maxAttempts: 1 });
    // The caller ID: a number of the account (here one assigned to meeting dial-in).
    expect((await h.api('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '+12065550199' })).status).toBeLessThan(300);
    const out = await legacy.send(new CreateMeetingDialOutCommand({ MeetingId: m.meetingId, FromPhoneNumber: '+12065550199', ToPhoneNumber: '+14155550123', JoinToken: attendee.Attendee?.JoinToken ?? '' }));
    expect(out.TransactionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await carrierMedia.start(15_000);
    carrierMedia.tone(600);
    await sleep(1000);
    const heard = await levels([a, { sipp: carrier, media: carrierMedia }], [1000, 600]);
    expect(heard[0]?.[1], JSON.stringify(heard)).toBeGreaterThan(HEARD);
    expect(heard[1]?.[0], JSON.stringify(heard)).toBeGreaterThan(HEARD);
    const live = await h.live(m.meetingId);
    expect(live?.Participants?.length).toBe(2);
    await endMeeting(m.meetingId, [a, { sipp: carrier, media: carrierMedia }]);
    carrierMedia.close();
    expect(events.some((e) => e.type === 'participant-joined' && e.meeting.meetingId === m.meetingId && e.participant.joinPath === 'dial-out' && e.participant.destinationNumber === '+14155550123')).toBe(true);
  });

  it('bad input: letters and 40 digits at the meeting domain reach the IVR; a DTMF flood and garbage RTP disturb nobody', async () => {
    const m = await h.create();
    const a = await h.dial(m.pin);
    const b = await h.dial(m.pin);
    a.media.tone(1000);
    b.media.tone(600);
    // Letters, and 40 digits: not a meeting ID — the IVR asks for one.
    const en = loadPromptSet('en-US');
    for (const user of ['12345abcde', '1'.repeat(40)]) {
      const x = await h.dial(user, { holdMs: 3000 });
      await until(() => contains(x, 0, en.speech('welcome').pcmu), 5000);
      expect((await x.sipp.done).successful).toBe(1);
    }
    // A flood of digits (far beyond 20 a second) and garbage datagrams from participant b.
    const target = b.media.rtp.target;
    if (target === undefined) throw new Error('no target');
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.alloc(i % 3 === 0 ? 8 : 12 + (i % 1400));
      junk[0] = i % 2 === 0 ? 0x80 : 0xff;
      junk[1] = i % 128;
      b.media.rtp.rtp.send(junk, target.port, target.address);
    }
    b.media.digits('#'.repeat(60));
    await sleep(1500);
    const heard = await levels([a, b], [1000, 600]);
    expect(heard[0]?.[1], JSON.stringify(heard)).toBeGreaterThan(HEARD);
    expect(heard[1]?.[0], JSON.stringify(heard)).toBeGreaterThan(HEARD);
    await endMeeting(m.meetingId, [a, b]);
  });

  it('records: a CDR per participant, quality records, meeting metrics and events', async () => {
    const m = await h.create();
    const ps = [await h.dial(m.pin), await h.dial(m.pin)];
    ps[0]?.media.tone(1000);
    ps[1]?.media.tone(600);
    await sleep(1500);
    const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
    expect(text).toMatch(/^carillon_meetings_active [1-9]/m);
    expect(text).toMatch(/^carillon_media_bridges_active [1-9]/m);
    expect(text).toMatch(/^carillon_media_bridge_participants [1-9]/m);
    expect(text).toMatch(/^carillon_media_bridge_tick_lag_seconds_count [1-9]/m);
    await endMeeting(m.meetingId, ps);
    // One CDR per participant, in Chime's conference fields.
    await until(() => readCdrs(t.dataDir).filter((c) => c.ConferencePin === m.pin).length === 2, 5000);
    const cdrs = readCdrs(t.dataDir).filter((c) => c.ConferencePin === m.pin);
    for (const c of cdrs) expect(c).toMatchObject({ SchemaVersion: '2.0', ConferenceId: m.meetingId, Direction: 'Inbound' });
    // Per-participant quality records, "cust" being the participant.
    await t.server.flushLogs();
    await until(() => {
      try {
        return readFileSync(path.join(t.dataDir, 'logs', 'voice-connector', 'meetings', 'media-quality.jsonl'), 'utf8').length > 0;
      } catch {
        return false;
      }
    }, 5000);
    const records = readFileSync(path.join(t.dataDir, 'logs', 'voice-connector', 'meetings', 'media-quality.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string | boolean | null>);
    const last = records.filter((r) => r.call_ended === true).slice(-2);
    expect(last).toHaveLength(2);
    for (const r of last) {
      expect(r.cust2vc_rtp_packets).toBeGreaterThan(50);
      expect(r.vc2cust_rtp_packets).toBeGreaterThan(50);
      expect(r.mos_btwn_vc_and_cust).toBeGreaterThan(4);
    }
    const kinds = events.filter((e) => ('meeting' in e && e.meeting?.meetingId === m.meetingId)).map((e) => e.type);
    for (const k of ['meeting-started', 'participant-connected', 'participant-joined', 'participant-left', 'participant-quality', 'meeting-ended']) expect(kinds).toContain(k);
  });
});
