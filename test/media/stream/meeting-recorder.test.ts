import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Random } from '../../../common/random.ts';
import { LINEAR_TO_ULAW } from '../../../media/codecs/g711.ts';
import { MediaCore } from '../../../media/media-core.ts';
import type { MediaEvent, MediaWorkerOptions, RemoteMedia } from '../../../media/protocol.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { FileStreamSink } from '../../../media/stream/file-sink.ts';
import { MeetingRecorder } from '../../../media/stream/meeting-recorder.ts';
import type { RecordedMeeting } from '../../../media/stream/meeting-recorder.ts';
import { StatusEvents } from '../../../media/stream/status-events.ts';
import type { StreamingEnvelope } from '../../../media/stream/status-events.ts';
import { StreamingService } from '../../../media/stream/streaming.ts';
import { WAV_HEADER_BYTES } from '../../../media/stream/wav.ts';
import { FakeUdpNetwork } from '../../support/fake-udp.ts';
import { goertzel } from '../../support/goertzel.ts';
import { ManualTimers } from '../../support/manual-timers.ts';
import { until } from '../../support/rtp-peer.ts';
import { ebmlFragmentsOf, ffprobeAudio, mkvinfo } from '../../support/mkv-check.ts';

/**
 * A meeting's recording end to end below signaling: a real worker core (in-memory network,
 * manual clock) mixing two talkers, the MeetingRecorder starting and stopping its record command
 * and feeding the StreamingService, the file sink writing `<dir>/meetings/<meetingId>/…-mix.mkv`
 * and `.wav`, and the status events.
 */
const FAR = '192.0.2.1';
const WALL0 = 1_764_000_000_000;
const SESSION = 'mtg-m1';
const MEETING: RecordedMeeting = { meetingId: 'personal:u-1', meetingPin: '4155550123', externalMeetingId: 'weekly sync', organizerUserId: 'u-1', organizerEmail: 'org@example.com' };

function toneFrame(hz: number, k: number, ssrc: number, amplitude = 6000): Buffer {
  const b = Buffer.alloc(172);
  writeRtpHeader({ marker: k === 0, payloadType: 0, sequence: (1000 + k) & 0xffff, timestamp: (5000 + k * 160) >>> 0, ssrc }, b);
  for (let i = 0; i < 160; i++) b[12 + i] = LINEAR_TO_ULAW[Math.round(amplitude * Math.sin((2 * Math.PI * hz * (k * 160 + i)) / 8000)) + 32768] ?? 0;
  return b;
}

function stepRandom(): Random {
  let r = 0.1;
  return {
    token: (n) => 'x'.repeat(n),
    float: () => {
      r = (r + 0.381966) % 1;
      return r;
    },
  };
}

const options: MediaWorkerOptions = { bindAddress: '127.0.0.1', low: 21000, high: 21019, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 60_000, cname: 'carillon@test', releaseDelayMs: 0, nativeRelay: false };
const far = (port: number): RemoteMedia => ({ address: FAR, port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [101] });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'carillon-mtg-rec-'));
  dirs.push(dir);
  const net = new FakeUdpNetwork();
  const clock = new ManualTimers(WALL0);
  /** Where the core's events go besides `media` (the recorder, once made). */
  const route: { to: ((e: MediaEvent) => void) | undefined } = { to: undefined };
  const media: MediaEvent[] = [];
  const core = new MediaCore(options, { sockets: net.sockets, clock, timers: clock, random: stepRandom() }, (e) => {
    media.push(e);
    route.to?.(e);
  });
  const events: StreamingEnvelope[] = [];
  const statusEvents = new StatusEvents([{ name: 'memory', deliver: (e) => Promise.resolve(void events.push(e)) }], () => undefined);
  const service = new StreamingService({ sink: new FileStreamSink({ dir, accountId: '000000000000' }), events: statusEvents, accountId: '000000000000', logger: pino({ level: 'silent' }), nowMs: () => clock.nowMs() });
  const control = {
    async record(session: string, fragmentMs: number): Promise<void> {
      const r = await core.handle({ op: 'record', session, fragmentMs });
      if (!r.ok) throw new Error(r.error);
    },
  };
  const recorder = new MeetingRecorder({ service, control, fragmentMs: 500, region: 'us-east-1', logger: pino({ level: 'silent' }) });
  route.to = (e) => void recorder.onMediaEvent(e);
  const members = new Map<string, { port: number; farPort: number; ssrc: number; k: number }>();
  let farPort = 40000;
  for (const id of ['p1', 'p2']) {
    const fp = (farPort += 2);
    const o = await core.handle({ op: 'open', session: SESSION, endpoint: id, kind: 'audio', clockRateHz: 8000, codec: 'PCMU', functions: true, remote: far(fp) });
    if (!o.ok || o.port === undefined) throw new Error('not opened');
    members.set(id, { port: o.port, farPort: fp, ssrc: 0x1000 + members.size, k: 0 });
    expect(await core.handle({ op: 'attach', session: SESSION, endpoint: id, function: { fn: 'participant', codec: 'PCMU', payloadType: 0 } })).toEqual({ ok: true });
    expect(await core.handle({ op: 'participant', session: SESSION, endpoint: id, inMeeting: true })).toEqual({ ok: true });
  }
  const talk = (frames: number, talking: Record<string, number>): void => {
    for (let f = 0; f < frames; f++) {
      for (const [id, hz] of Object.entries(talking)) {
        const m = members.get(id);
        if (m === undefined) throw new Error(`no member ${id}`);
        net.deliver(m.port, toneFrame(hz, m.k++, m.ssrc), FAR, m.farPort);
      }
      clock.advance(20);
    }
  };
  /** RTP packets Carillon sent member `id`. */
  const sentTo = (id: string): number => {
    const m = members.get(id);
    return net.sent.filter((d) => d.toPort === m?.farPort && d.fromPort === m.port).length;
  };
  const settle = async (): Promise<void> => {
    await service.drain();
    await statusEvents.settled();
  };
  return { dir, core, recorder, service, events, media, talk, sentTo, settle };
}

const samplesOf = (b: Buffer): Int16Array => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length - (b.length % 2)));
const level = (samples: ArrayLike<number>, hz: number): number => goertzel(samples, hz, 8000);

describe('a recorded meeting on the file sink', () => {
  it("writes the mix of both talkers to meetings/<id>/<tx>-mix.mkv and .wav, with STARTED and ENDED naming the meeting; stop ends it", async () => {
    const { dir, recorder, events, talk, settle } = await setup();
    expect(await recorder.start(MEETING, SESSION)).toBe(true);
    expect(await recorder.start(MEETING, SESSION)).toBe(true);
    expect(recorder.active).toBe(1);
    talk(100, { p1: 1000, p2: 600 }); // 2 s: four fragments
    talk(10, { p1: 1000 }); // a fifth, shorter one at stop
    await recorder.stop(MEETING.meetingId);
    expect(recorder.active).toBe(0);
    talk(50, { p1: 1000, p2: 600 }); // after stop: nowhere
    await settle();

    const folder = path.join(dir, 'meetings', 'personal_u-1');
    const files = readdirSync(folder).sort();
    expect(files).toHaveLength(2);
    const base = (files[0] ?? '').replace(/\.mkv$/, '');
    expect(files).toEqual([`${base}.mkv`, `${base}.wav`]);
    const mkv = path.join(folder, `${base}.mkv`);
    const wav = path.join(folder, `${base}.wav`);

    const info = mkvinfo(mkv);
    expect(info.problems).toEqual([]);
    expect(info.simpleBlocks).toBe(110);
    expect(ffprobeAudio(wav)).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '8000', channels: 1 });
    const fragments = await ebmlFragmentsOf(mkv);
    expect(fragments.map((f) => f.timecodeMs - fragments[0]!.timecodeMs)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(fragments[0]?.timecodeMs).toBe(WALL0 + 20);
    expect(fragments[0]?.tags).toMatchObject({ MeetingId: 'personal:u-1', MeetingPin: '4155550123', ExternalMeetingId: 'weekly sync', OrganizerUserId: 'u-1' });
    expect(fragments[0]?.tags.TransactionId).toBe(base.replace(/-mix$/, ''));

    const pcm = samplesOf(readFileSync(wav).subarray(WAV_HEADER_BYTES));
    expect(pcm.length).toBe(110 * 160);
    const both = pcm.subarray(2000, 16000);
    expect(level(both, 1000)).toBeGreaterThan(3000);
    expect(level(both, 600)).toBeGreaterThan(3000);
    expect(level(both, 1400)).toBeLessThan(150);
    // The MKV holds the same samples as the WAV.
    expect(Buffer.concat(fragments.map((f) => f.pcm)).equals(readFileSync(wav).subarray(WAV_HEADER_BYTES))).toBe(true);

    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['STARTED', 'ENDED']);
    for (const e of events) {
      expect(e.detail).toMatchObject({ meetingId: 'personal:u-1', meetingPin: '4155550123', externalMeetingId: 'weekly sync', organizerUserId: 'u-1', organizerEmail: 'org@example.com', mediaType: 'audio/L16', transactionId: base.replace(/-mix$/, '') });
      expect(e.detail).not.toHaveProperty('voiceConnectorId');
      expect(e.detail).not.toHaveProperty('callId');
      expect(String(e.detail.streamArn)).toMatch(/^arn:aws:kinesisvideo:us-east-1:000000000000:stream\/CarillonMeeting-4155550123-[0-9a-f-]+\/\d+$/);
    }
    expect(events[0]?.detail.startTime).toBe(new Date(WALL0 + 20).toISOString());
  });

  it('a second recording of the same meeting is a stream of its own', async () => {
    const { dir, recorder, events, talk, settle } = await setup();
    expect(await recorder.start(MEETING, SESSION)).toBe(true);
    talk(25, { p1: 1000 });
    await recorder.stop(MEETING.meetingId);
    expect(await recorder.start(MEETING, SESSION)).toBe(true);
    talk(25, { p2: 600 });
    await recorder.stop(MEETING.meetingId);
    await settle();
    expect(readdirSync(path.join(dir, 'meetings', 'personal_u-1'))).toHaveLength(4);
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['STARTED', 'ENDED', 'STARTED', 'ENDED']);
    expect(events[0]?.detail.transactionId).not.toBe(events[2]?.detail.transactionId);
  });

  it('a sink that fails ends the recording (FAILED, the worker stops sending the mix), never the meeting', async () => {
    const { dir, recorder, events, media, talk, sentTo, settle } = await setup();
    // The meetings folder cannot be made: a file is where it should be.
    writeFileSync(path.join(dir, 'meetings'), 'in the way');
    const ended: string[] = [];
    recorder.onEnded = (id, reason) => ended.push(`${id}: ${reason.slice(0, 10)}`);
    expect(await recorder.start(MEETING, SESSION)).toBe(true);
    talk(50, { p1: 1000, p2: 600 });
    // The sink fails on the disk's time, not the test's.
    await until(() => events.length > 0);
    await settle();
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['FAILED']);
    expect(events[0]?.detail).toMatchObject({ meetingId: 'personal:u-1', failureReason: expect.stringMatching(/^file sink: /) as unknown });
    expect(recorder.active).toBe(0);
    expect(ended).toEqual(['personal:u-1: file sink:']);
    const mixFragments = media.filter((e) => e.ev === 'audio').length;
    const heard = sentTo('p1');
    talk(50, { p1: 1000, p2: 600 });
    expect(media.filter((e) => e.ev === 'audio').length).toBe(mixFragments);
    expect(sentTo('p1')).toBe(heard + 50);
    // Stopping now (the moderator's *9) is harmless; recording can start again.
    await recorder.stop(MEETING.meetingId);
    rmSync(path.join(dir, 'meetings'));
    expect(await recorder.start(MEETING, SESSION)).toBe(true);
    talk(25, { p1: 1000 });
    await recorder.stop(MEETING.meetingId);
    await settle();
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['FAILED', 'STARTED', 'ENDED']);
    expect(ended).toHaveLength(1);
  });

  it('refuses a session with no bridge (recording stays off) and takes no audio that is not a recorded mix', async () => {
    const { recorder, core } = await setup();
    expect(await recorder.start({ ...MEETING, meetingId: 'other' }, 'mtg-none')).toBe(false);
    expect(recorder.active).toBe(0);
    expect(recorder.onMediaEvent({ ev: 'audio', session: SESSION, endpoint: 'mix', timecodeMs: 0, pcm: new Int16Array(8) })).toBe(false);
    expect(recorder.onMediaEvent({ ev: 'audio', session: SESSION, endpoint: '0a', timecodeMs: 0, pcm: new Int16Array(8) })).toBe(false);
    core.close();
  });
});
