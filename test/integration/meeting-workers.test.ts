import { afterEach, describe, expect, it } from 'vitest';
import { loadPromptSet } from '../../media/prompts/prompts.ts';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness } from '../support/meeting-harness.ts';
import { until } from '../support/rtp-peer.ts';
import { compressedTimers, startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * Meetings across media workers and over long waits: an IVR caller whose meeting lives on another
 * media worker reaches it through a re-INVITE to a new endpoint there; a moderated meeting's
 * waiting room gives up after ten minutes (minutes compressed: timers of 10 s or more run 100×
 * faster).
 */
describe('meetings: several media workers, the waiting room limit', () => {
  let t: TestServer | undefined;
  let h: MeetingHarness | undefined;
  afterEach(async () => {
    h?.closeAll();
    killAllSipp();
    await t?.close();
    t = undefined;
  });

  it('an IVR caller joins a meeting on another media worker: a re-INVITE moves its media there', async () => {
    t = await startTestServer({ mediaWorkers: 2 });
    h = meetingHarness(t);
    const events: MeetingEvent[] = [];
    t.server.meetingEvents.on((e) => events.push(e));
    const m = await h.create();
    // The IVR caller first: its session takes one worker; the meeting's session then goes to the other.
    const b = await h.dial('u', { answerReinvite: true });
    const a = await h.dial(m.pin);
    a.media.tone(1000);
    b.media.digits(`${m.pin}#`);
    await until(() => events.filter((e) => e.type === 'participant-joined' && e.meeting.meetingId === m.meetingId).length === 2, 15_000);
    await sleep(1500);
    const mark = b.media.mark();
    await sleep(1500);
    expect(b.media.level(1000, mark)).toBeGreaterThan(1500);
    b.media.tone(600);
    await sleep(800);
    const markA = a.media.mark();
    await sleep(1500);
    expect(a.media.level(600, markA)).toBeGreaterThan(1500);
    // Its media now comes from another port than the IVR's.
    const ports = new Set(b.media.rtp.received.map((r) => r.from.port));
    expect(ports.size).toBeGreaterThanOrEqual(2);
    expect((await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/end`, {})).status).toBeLessThan(300);
    for (const r of await Promise.all([a.sipp.done, b.sipp.done])) expect(r.successful, r.errors.slice(-3000)).toBe(1);
  });

  it('a moderated meeting nobody starts: participants hear the cue every minute and leave after ten minutes', async () => {
    t = await startTestServer({}, { timers: compressedTimers(100) });
    h = meetingHarness(t);
    const m = await h.create({ Moderated: true, ModeratorPasscode: '2468' });
    const a = await h.dial(m.pin);
    const en = loadPromptSet('en-US');
    const cue = en.speech('waiting-for-host').pcmu.slice(0, 5);
    const cues = (): number => {
      const got = a.media.rtp.received.map((r) => r.packet.subarray(12));
      let n = 0;
      for (let i = 0; i + cue.length <= got.length; i++) if (cue.every((f, k) => Buffer.compare(Buffer.from(f), got[i + k] as Buffer) === 0)) n++;
      return n;
    };
    // Ten minutes at 100× is 6 s; the cue plays at the start and every (compressed) minute.
    const r = await a.sipp.done;
    expect(r.successful, r.output.slice(-1500)).toBe(1);
    expect(cues()).toBeGreaterThanOrEqual(3);
    const goodbye = en.speech('goodbye').pcmu.slice(0, 5);
    const got = a.media.rtp.received.map((x) => x.packet.subarray(12));
    expect(got.some((_, i) => goodbye.every((f, k) => got[i + k] !== undefined && Buffer.compare(Buffer.from(f), got[i + k] as Buffer) === 0))).toBe(true);
  });
});
