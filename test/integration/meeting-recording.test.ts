import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAV_HEADER_BYTES } from '../../media/stream/wav.ts';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { goertzel } from '../support/goertzel.ts';
import { meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness, TestParticipant } from '../support/meeting-harness.ts';
import { ebmlFragmentsOf, mkvinfo } from '../support/mkv-check.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * A meeting's recording over SIP: two SIPp participants sending tones (loopback RTP), a moderator
 * (passcode + `#`) turning recording on and off with `*9`; the file sink's MKV and WAV under
 * <data>/streams/meetings/<meetingId>/ hold the mix with both tones, and the streaming events
 * file has its STARTED and ENDED.
 */
describe('meeting recording over SIP', () => {
  let t: TestServer;
  let h: MeetingHarness;
  const events: MeetingEvent[] = [];

  beforeAll(async () => {
    t = await startTestServer({ meetingDomain: 'meet.carillon.test' });
    h = meetingHarness(t);
    t.server.meetingEvents.on((e) => events.push(e));
  });

  afterAll(async () => {
    h.closeAll();
    killAllSipp();
    await t.close();
  });

  const action = (meetingId: string, a: string): boolean => events.some((e) => e.type === 'moderator-action' && e.action === a && e.meeting.meetingId === meetingId);

  it("the moderator's *9 records the meeting's mix to an MKV and a WAV with both talkers in them; *9 again stops it", async () => {
    const m = await h.create({ Moderated: true, ModeratorPasscode: '4321' });
    const a = await h.dial(m.pin);
    const b = await h.dial(m.pin);
    a.media.tone(1000);
    b.media.tone(600);
    const mod = await h.dial(m.pin);
    mod.media.digits('4321#');
    await mod.media.digitsSent();
    await until(() => action(m.meetingId, 'start'), 5000);
    await sleep(500);

    mod.media.digits('*9');
    await mod.media.digitsSent();
    await until(() => action(m.meetingId, 'recording-start'), 5000);
    await sleep(3000);
    mod.media.digits('*9');
    await mod.media.digitsSent();
    await until(() => action(m.meetingId, 'recording-stop'), 5000);

    const folder = path.join(t.dataDir, 'streams', 'meetings', m.meetingId);
    const files = readdirSync(folder).sort();
    expect(files).toHaveLength(2);
    const mkv = path.join(folder, files[0] ?? '');
    const wav = path.join(folder, files[1] ?? '');
    expect(mkv.endsWith('-mix.mkv') && wav.endsWith('-mix.wav')).toBe(true);
    expect(mkvinfo(mkv).problems).toEqual([]);
    const fragments = await ebmlFragmentsOf(mkv);
    expect(fragments.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < fragments.length; i++) expect((fragments[i]?.timecodeMs ?? 0) - (fragments[i - 1]?.timecodeMs ?? 0)).toBe(1000);
    expect(fragments[0]?.tags).toMatchObject({ MeetingId: m.meetingId, MeetingPin: m.pin });

    const bytes = readFileSync(wav).subarray(WAV_HEADER_BYTES);
    const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length - (bytes.length % 2)));
    // The recording lasted about as long as it was on (*9 to *9: ~3 s and the digits).
    expect(pcm.length / 8000).toBeGreaterThan(2.5);
    expect(pcm.length / 8000).toBeLessThan(6);
    const middle = pcm.subarray(4000, pcm.length - 4000);
    expect(goertzel(middle, 1000, 8000)).toBeGreaterThan(1500);
    expect(goertzel(middle, 600, 8000)).toBeGreaterThan(1500);
    expect(goertzel(middle, 1400, 8000)).toBeLessThan(300);

    await until(() => readFileSync(path.join(t.dataDir, 'streams', 'events.jsonl'), 'utf8').includes('"ENDED"'), 5000);
    const status = readFileSync(path.join(t.dataDir, 'streams', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { detail: { streamingStatus?: string; meetingId?: string } })
      // The recording's stream events (the meeting's own state changes share the file).
      .filter((e) => e.detail.meetingId === m.meetingId && e.detail.streamingStatus !== undefined)
      .map((e) => e.detail.streamingStatus);
    expect(status).toEqual(['STARTED', 'ENDED']);

    const r = await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/end`, {});
    expect(r.status).toBeLessThan(300);
    const done = await Promise.all([a, b, mod].map((p: TestParticipant) => p.sipp.done));
    for (const d of done) expect(d.successful, d.output.slice(-1500)).toBe(1);
  });
});
