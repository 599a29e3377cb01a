import client from 'prom-client';
import type { MeetingEvent, MeetingEvents } from '../signaling/calls/meeting-events.ts';
import type { JoinPath, MeetingEndReason, ModeratorAction, ParticipantLeaveReason } from '../signaling/calls/meeting-events.ts';

/**
 * Meeting metrics counted from the meeting events (the bridge's own figures — bridges,
 * participants mixed, tick lag, tick CPU — are read from the media workers at scrape time, in
 * registry.ts). Every label value the events can carry exists from the first scrape, at 0.
 *
 *   carillon_meetings_active                                  meetings started and not ended
 *   carillon_meetings_started_total / _ended_total{reason}
 *   carillon_meeting_participants{state}                      waiting (answered, not yet mixed: IVR or waiting room) | in-meeting
 *   carillon_meeting_participants_joined_total{join_path}     entered a meeting's mix
 *   carillon_meeting_participant_leaves_total{reason}         calls of participants that ended
 *   carillon_meeting_moderator_actions_total{action, source}  source: dtmf | api
 *
 * Chime SDK names (AWS/ChimeSDK): AttendeeAuthorizationSuccess ≈ joined; AttendeeAuthorizationError
 * ≈ leaves{reason=locked|invalid-id}; AttendeeAudioDrops ≈ leaves{reason=media-timeout}.
 */
const JOIN_PATHS: readonly JoinPath[] = ['dial-in', 'dial-in-number', 'dial-out'];
const LEAVE_REASONS: readonly ParticipantLeaveReason[] = ['hangup', 'removed', 'meeting-ended', 'locked', 'invalid-id', 'media-timeout', 'moderator-timeout', 'shutdown'];
const ACTIONS: readonly ModeratorAction[] = ['start', 'mute-all-others', 'lock', 'unlock', 'end', 'remove', 'mute', 'unmute', 'recording-start', 'recording-stop', 'stop-presenting'];
const END_REASONS: readonly MeetingEndReason[] = ['last-left', 'ended-by-moderator', 'ended-by-api', 'deleted', 'no-moderator', 'shutdown'];

/** What the meeting counters hold (also for tests and a status page). */
export interface MeetingTallies {
  /** Meetings started and not ended. */
  readonly active: ReadonlySet<string>;
  /** Participants not yet left, by id: whether each is in a meeting's mix. */
  readonly participants: ReadonlyMap<string, 'waiting' | 'in-meeting'>;
}

export function addMeetingMetrics(registry: client.Registry, events: MeetingEvents): MeetingTallies {
  const active = new Set<string>();
  const participants = new Map<string, 'waiting' | 'in-meeting'>();
  new client.Gauge({
    name: 'carillon_meetings_active',
    help: 'Meetings in progress: started (a first participant joined) and not ended',
    registers: [registry],
    collect() {
      this.set(active.size);
    },
  });
  new client.Gauge({
    name: 'carillon_meeting_participants',
    help: 'Meeting participants connected now, by state: waiting (answered, not mixed yet: IVR or a moderated meeting not started) or in-meeting (mixed)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      let mixed = 0;
      for (const s of participants.values()) if (s === 'in-meeting') mixed++;
      this.set({ state: 'in-meeting' }, mixed);
      this.set({ state: 'waiting' }, participants.size - mixed);
    },
  });
  const started = new client.Counter({ name: 'carillon_meetings_started_total', help: 'Meetings started', registers: [registry] });
  const ended = new client.Counter({ name: 'carillon_meetings_ended_total', help: 'Meetings ended, by reason', labelNames: ['reason'] as const, registers: [registry] });
  const joined = new client.Counter({
    name: 'carillon_meeting_participants_joined_total',
    help: "Participants that entered a meeting's mix, by how they reached it (dial-in: a SIP URI; dial-in-number: a phone number; dial-out) (Chime SDK AttendeeAuthorizationSuccess)",
    labelNames: ['join_path'] as const,
    registers: [registry],
  });
  const leaves = new client.Counter({ name: 'carillon_meeting_participant_leaves_total', help: 'Meeting participant calls that ended, by reason (Chime SDK AttendeeAuthorizationError: locked, invalid-id; AttendeeAudioDrops: media-timeout)', labelNames: ['reason'] as const, registers: [registry] });
  const actions = new client.Counter({
    name: 'carillon_meeting_moderator_actions_total',
    help: 'Moderator actions, by action and by where they came from (dtmf: a moderator or host on the call; api)',
    labelNames: ['action', 'source'] as const,
    registers: [registry],
  });
  started.inc(0);
  for (const reason of END_REASONS) ended.inc({ reason }, 0);
  for (const join_path of JOIN_PATHS) joined.inc({ join_path }, 0);
  for (const reason of LEAVE_REASONS) leaves.inc({ reason }, 0);
  for (const action of ACTIONS) for (const source of ['dtmf', 'api']) actions.inc({ action, source }, 0);

  events.on((e: MeetingEvent) => {
    switch (e.type) {
      case 'meeting-started':
        if (active.has(e.meeting.meetingId)) return;
        active.add(e.meeting.meetingId);
        started.inc();
        return;
      case 'meeting-ended':
        if (!active.delete(e.meeting.meetingId)) return;
        ended.inc({ reason: e.reason });
        return;
      case 'participant-connected':
        if (!participants.has(e.participant.participantId)) participants.set(e.participant.participantId, 'waiting');
        return;
      case 'participant-joined':
        if (participants.get(e.participant.participantId) === 'in-meeting') return;
        participants.set(e.participant.participantId, 'in-meeting');
        joined.inc({ join_path: e.participant.joinPath });
        return;
      case 'participant-left':
        participants.delete(e.participant.participantId);
        leaves.inc({ reason: e.reason });
        return;
      case 'moderator-action':
        actions.inc({ action: e.action, source: e.by.kind === 'api' ? 'api' : 'dtmf' });
        return;
      default:
        return;
    }
  });
  return { active, participants };
}
