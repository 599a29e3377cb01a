import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Type from 'typebox';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { AppendFiles } from '../../common/append-files.ts';
import { natsSubjectOf } from '../../media/stream/notify-targets.ts';
import { fileEventTarget, StatusEvents } from '../../media/stream/status-events.ts';
import type { StreamingEnvelope } from '../../media/stream/status-events.ts';
import { meetingEnvelope, publishMeetingEvents } from '../../metrics/meeting-notify.ts';
import { MeetingEvents } from '../../signaling/calls/meeting-events.ts';
import { ManualTimers } from '../support/manual-timers.ts';
import { meetingSummary, participantSummary } from '../support/meetings.ts';

const T0 = Date.UTC(2026, 10, 3, 17, 10, 0, 20);

/** The Chime SDK's meeting lifecycle event envelope; the detail checked per event below. */
const Envelope = Type.Object(
  {
    version: Type.Literal('0'),
    id: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
    'detail-type': Type.Literal('Chime Meeting State Change'),
    source: Type.Literal('aws.chime'),
    account: Type.String({ pattern: '^[0-9]{12}$' }),
    time: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' }),
    region: Type.String({ minLength: 1 }),
    resources: Type.Array(Type.String(), { maxItems: 0 }),
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

describe('meeting events on the event targets', () => {
  it('sends started, joined, muted, moderator action, left and ended in the Chime meeting lifecycle shape to every target', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-mev-'));
    const files = new AppendFiles();
    const seen: StreamingEnvelope[] = [];
    const targets = new StatusEvents(
      [fileEventTarget(files, dir), { name: 'memory', deliver: (e) => Promise.resolve(void seen.push(e)) }],
      (t, err) => {
        throw new Error(`${t}: ${String(err)}`);
      },
    );
    const events = new MeetingEvents((err) => {
      throw err;
    });
    const clock = new ManualTimers(T0 + 100_000);
    publishMeetingEvents(events, targets, { accountId: '111122223333', region: 'us-east-1', clock });

    const meeting = meetingSummary({ startedAtMs: T0 });
    const host = participantSummary({ participantId: 'p-host', role: 'host', joinedAtMs: T0 });
    const other = participantSummary({ participantId: 'p-2', callerNumber: 'alice', joinedAtMs: T0 + 1_000 });
    const ivr = participantSummary({ participantId: 'p-ivr' });
    events.emit({ type: 'participant-connected', meeting: undefined, participant: ivr });
    events.emit({ type: 'meeting-started', meeting });
    events.emit({ type: 'participant-joined', meeting, participant: host });
    events.emit({ type: 'participant-joined', meeting, participant: other });
    events.emit({ type: 'participant-muted', meeting, participant: { ...other, muted: true }, by: { kind: 'participant', participantId: 'p-host' } });
    events.emit({ type: 'participant-muted', meeting, participant: other, by: { kind: 'api' } });
    events.emit({ type: 'moderator-action', meeting, action: 'remove', by: { kind: 'api' }, target: other });
    events.emit({ type: 'participant-left', meeting, participant: { ...other, endedAtMs: T0 + 50_000 }, reason: 'removed' });
    events.emit({ type: 'participant-left', meeting, participant: { ...host, endedAtMs: T0 + 60_000 }, reason: 'media-timeout' });
    // Never joined: the IVR gave up, or a locked meeting refused it — no attendee events.
    events.emit({ type: 'participant-left', meeting: undefined, participant: ivr, reason: 'invalid-id' });
    events.emit({ type: 'participant-left', meeting, participant: participantSummary({ participantId: 'p-late' }), reason: 'locked' });
    events.emit({ type: 'meeting-ended', meeting: { ...meeting, endedAtMs: T0 + 60_000 }, reason: 'last-left', participants: [] });
    await targets.settled();
    await files.flush();

    const written = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StreamingEnvelope);
    expect(written.map((e) => e.id)).toEqual(seen.map((e) => e.id));
    for (const e of written) expect(Value.Errors(Envelope, e)).toEqual([]);
    const details = written.map((e) => e.detail);
    const base = { version: '0', meetingId: meeting.meetingId, externalMeetingId: 'weekly-sync', mediaRegion: 'us-east-1' };
    expect(details).toEqual([
      { ...base, eventType: 'chime:MeetingStarted', timestamp: T0 },
      { ...base, eventType: 'chime:AttendeeJoined', timestamp: T0, attendeeId: 'p-host', externalUserId: '+12065550100', role: 'host', joinPath: 'dial-in' },
      { ...base, eventType: 'chime:AttendeeJoined', timestamp: T0 + 1_000, attendeeId: 'p-2', externalUserId: 'alice', role: 'attendee', joinPath: 'dial-in' },
      { ...base, eventType: 'chime:AttendeeMuted', timestamp: T0 + 100_000, attendeeId: 'p-2', externalUserId: 'alice', role: 'attendee', joinPath: 'dial-in', mutedBy: 'p-host' },
      { ...base, eventType: 'chime:AttendeeUnmuted', timestamp: T0 + 100_000, attendeeId: 'p-2', externalUserId: 'alice', role: 'attendee', joinPath: 'dial-in', mutedBy: 'api' },
      { ...base, eventType: 'chime:ModeratorAction', timestamp: T0 + 100_000, action: 'remove', actionBy: 'api', targetAttendeeId: 'p-2' },
      { ...base, eventType: 'chime:AttendeeLeft', timestamp: T0 + 50_000, attendeeId: 'p-2', externalUserId: 'alice', role: 'attendee', joinPath: 'dial-in', leaveReason: 'removed' },
      { ...base, eventType: 'chime:AttendeeDropped', timestamp: T0 + 60_000, attendeeId: 'p-host', externalUserId: '+12065550100', role: 'host', joinPath: 'dial-in', leaveReason: 'media-timeout' },
      { ...base, eventType: 'chime:MeetingEnded', timestamp: T0 + 60_000, endReason: 'last-left' },
    ]);
    // Detail keys in order, as the streaming events have them.
    for (const d of details) expect(Object.keys(d)).toEqual(Object.keys(d).sort());
    expect(written[0]?.time).toBe('2026-11-03T17:11:40Z');
    expect(targets.counters.get('file')).toEqual({ delivered: 9, failed: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves out an absent externalMeetingId and publishes a meeting on its own NATS subject', () => {
    const m = meetingSummary({ meetingId: 'personal:user ana.x', externalMeetingId: undefined });
    const e = meetingEnvelope({ type: 'meeting-started', meeting: m }, '111122223333', 'us-east-1', T0);
    expect(e).toBeDefined();
    expect(Object.keys(e?.detail ?? {})).not.toContain('externalMeetingId');
    expect(natsSubjectOf('carillon.events', e as StreamingEnvelope)).toBe('carillon.events.meetings.personal:user_ana_x');
    const streaming = { ...(e as StreamingEnvelope), 'detail-type': 'Chime VoiceConnector Streaming Status' as const, detail: { voiceConnectorId: 'abcdefghijklmnopqrstuv' } };
    expect(natsSubjectOf('carillon.events', streaming)).toBe('carillon.events.abcdefghijklmnopqrstuv');
  });
});
