import { readFileSync } from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addMeetingMetrics } from '../../metrics/meeting-metrics.ts';
import { createMetricsRegistry } from '../../metrics/registry.ts';
import type { SignalingMetricsSource } from '../../metrics/registry.ts';
import { zeroMediaStatus } from '../../media/protocol.ts';
import type { MediaStatus } from '../../media/protocol.ts';
import { MeetingEvents } from '../../signaling/calls/meeting-events.ts';
import { meetingSummary, participantSummary } from '../support/meetings.ts';

/** The value of one series in Prometheus text (undefined: no such series). */
function series(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (line.slice(0, sp) === (labels === '' ? name : `${name}{${labels}}`)) return Number(line.slice(sp + 1));
  }
  return undefined;
}

describe('meeting metrics from the meeting events', () => {
  it('counts meetings, participants by state, joins by path, leaves by reason and moderator actions', async () => {
    const registry = new client.Registry();
    const events = new MeetingEvents((err) => {
      throw err;
    });
    addMeetingMetrics(registry, events);
    let text = await registry.metrics();
    // Every series exists before anything happened.
    expect(series(text, 'carillon_meetings_active')).toBe(0);
    expect(series(text, 'carillon_meeting_participants_joined_total', 'join_path="dial-out"')).toBe(0);
    expect(series(text, 'carillon_meeting_participant_leaves_total', 'reason="locked"')).toBe(0);
    expect(series(text, 'carillon_meeting_moderator_actions_total', 'action="lock",source="api"')).toBe(0);

    const m1 = meetingSummary({ meetingId: 'm1' });
    const m2 = meetingSummary({ meetingId: 'm2' });
    const a = participantSummary({ participantId: 'a', meetingId: 'm1' });
    const b = participantSummary({ participantId: 'b', meetingId: 'm1', joinPath: 'dial-in-number' });
    const c = participantSummary({ participantId: 'c', meetingId: 'm2', joinPath: 'dial-out' });
    const ivr = participantSummary({ participantId: 'ivr' });
    events.emit({ type: 'participant-connected', meeting: undefined, participant: ivr });
    for (const p of [a, b]) events.emit({ type: 'participant-connected', meeting: m1, participant: p });
    events.emit({ type: 'meeting-started', meeting: m1 });
    events.emit({ type: 'participant-joined', meeting: m1, participant: a });
    events.emit({ type: 'participant-connected', meeting: m2, participant: c });
    events.emit({ type: 'meeting-started', meeting: m2 });
    events.emit({ type: 'participant-joined', meeting: m2, participant: c });
    // A repeated event counts once.
    events.emit({ type: 'participant-joined', meeting: m2, participant: c });
    events.emit({ type: 'moderator-action', meeting: m1, action: 'mute-all-others', by: { kind: 'participant', participantId: 'a' }, target: undefined });
    events.emit({ type: 'moderator-action', meeting: m1, action: 'lock', by: { kind: 'api' }, target: undefined });
    events.emit({ type: 'moderator-action', meeting: m1, action: 'lock', by: { kind: 'api' }, target: undefined });

    text = await registry.metrics();
    expect(series(text, 'carillon_meetings_active')).toBe(2);
    expect(series(text, 'carillon_meetings_started_total')).toBe(2);
    expect(series(text, 'carillon_meeting_participants', 'state="in-meeting"')).toBe(2);
    expect(series(text, 'carillon_meeting_participants', 'state="waiting"')).toBe(2);
    expect(series(text, 'carillon_meeting_participants_joined_total', 'join_path="dial-in"')).toBe(1);
    expect(series(text, 'carillon_meeting_participants_joined_total', 'join_path="dial-out"')).toBe(1);
    expect(series(text, 'carillon_meeting_participants_joined_total', 'join_path="dial-in-number"')).toBe(0);
    expect(series(text, 'carillon_meeting_moderator_actions_total', 'action="mute-all-others",source="dtmf"')).toBe(1);
    expect(series(text, 'carillon_meeting_moderator_actions_total', 'action="lock",source="api"')).toBe(2);

    events.emit({ type: 'participant-left', meeting: undefined, participant: ivr, reason: 'invalid-id' });
    events.emit({ type: 'participant-left', meeting: m1, participant: b, reason: 'locked' });
    events.emit({ type: 'participant-left', meeting: m1, participant: a, reason: 'hangup' });
    events.emit({ type: 'meeting-ended', meeting: m1, reason: 'last-left', participants: [a, b] });
    events.emit({ type: 'meeting-ended', meeting: m1, reason: 'last-left', participants: [a, b] });

    text = await registry.metrics();
    expect(series(text, 'carillon_meetings_active')).toBe(1);
    expect(series(text, 'carillon_meetings_ended_total', 'reason="last-left"')).toBe(1);
    expect(series(text, 'carillon_meeting_participants', 'state="in-meeting"')).toBe(1);
    expect(series(text, 'carillon_meeting_participants', 'state="waiting"')).toBe(0);
    expect(series(text, 'carillon_meeting_participant_leaves_total', 'reason="invalid-id"')).toBe(1);
    expect(series(text, 'carillon_meeting_participant_leaves_total', 'reason="locked"')).toBe(1);
    expect(series(text, 'carillon_meeting_participant_leaves_total', 'reason="hangup"')).toBe(1);
  });
});

describe('bridge metrics read from the media workers at scrape time', () => {
  const status = (o: Partial<MediaStatus>): MediaStatus => ({
    ...zeroMediaStatus(),
    ...o,
  });
  const sourceWith = (media: () => Promise<MediaStatus>): SignalingMetricsSource => ({
    edge: { messagesReceived: 0, parseErrors: 0, unanswerable: 0, badRequestsAnswered: 0, rateLimited: 0, misroutedResponses: 0 },
    calls: { callsStarted: 0, callsAnswered: 0, callsFailed: 0, rejectedRequests: 0 },
    stats: () => ({ calls: 0, dialogs: 0, transactions: 0, connections: 0 }),
    streams: () => ({ refused: 0, deadlinesMissed: 0 }),
    unroutable: () => 0,
    mediaRefusals: () => ({ tooManyMediaLines: 0, sourcePortLimit: 0 }),
    internalErrors: () => 0,
    media,
  });

  it('writes the workers\' per-bucket tick counts as a cumulative histogram in seconds, with bridges, participants and mixer CPU', async () => {
    // Buckets ≤0.5, ≤1, ≤2, ≤5, ≤10, ≤20, ≤50, ≤100 ms, then the rest.
    let current = status({ bridges: 2, bridgeParticipants: 7, bridgeTickLag: [900, 80, 10, 5, 3, 1, 0, 0, 1], bridgeTickLagSumMs: 612.5, bridgeTickUs: 2_500_000 });
    let asked = 0;
    const registry = createMetricsRegistry(() =>
      sourceWith(() => {
        asked++;
        return Promise.resolve(current);
      }),
    );
    let text = await registry.metrics();
    expect(asked).toBe(1);
    expect(series(text, 'carillon_media_bridges_active')).toBe(2);
    expect(series(text, 'carillon_media_bridge_participants')).toBe(7);
    expect(series(text, 'carillon_media_bridge_tick_cpu_seconds_total')).toBe(2.5);
    expect(text).toContain('# TYPE carillon_media_bridge_tick_lag_seconds histogram');
    const h = 'carillon_media_bridge_tick_lag_seconds';
    expect(series(text, `${h}_bucket`, 'le="0.0005"')).toBe(900);
    expect(series(text, `${h}_bucket`, 'le="0.001"')).toBe(980);
    expect(series(text, `${h}_bucket`, 'le="0.002"')).toBe(990);
    expect(series(text, `${h}_bucket`, 'le="0.005"')).toBe(995);
    expect(series(text, `${h}_bucket`, 'le="0.02"')).toBe(999);
    expect(series(text, `${h}_bucket`, 'le="0.1"')).toBe(999);
    expect(series(text, `${h}_bucket`, 'le="+Inf"')).toBe(1000);
    expect(series(text, `${h}_count`)).toBe(1000);
    expect(series(text, `${h}_sum`)).toBeCloseTo(0.6125, 9);

    current = status({ bridges: 0, bridgeTickLag: [901, 80, 10, 5, 3, 1, 0, 0, 1], bridgeTickLagSumMs: 612.7, bridgeTickUs: 2_500_100 });
    await new Promise((r) => setImmediate(r));
    text = await registry.metrics();
    expect(series(text, 'carillon_media_bridges_active')).toBe(0);
    expect(series(text, `${h}_count`)).toBe(1001);
    expect(series(text, `${h}_bucket`, 'le="0.0005"')).toBe(901);
  });

  it('the dashboard\'s meeting and bridge panels name only metrics the registry exports', async () => {
    const registry = createMetricsRegistry(() => sourceWith(() => Promise.resolve(status({}))));
    addMeetingMetrics(registry, new MeetingEvents(() => undefined));
    const exported = await registry.metrics();
    const dash = readFileSync(path.join(import.meta.dirname, '../../metrics/grafana-dashboard.json'), 'utf8');
    const names = new Set([...dash.matchAll(/carillon_(?:meeting|media_bridge)[a-z0-9_]*/g)].map((m) => m[0].replace(/_bucket$/, '')));
    expect(names.size).toBeGreaterThanOrEqual(8);
    for (const n of names) expect(exported, n).toContain(`# HELP ${n} `);
  });
});
