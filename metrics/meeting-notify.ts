import type { Clock } from '../common/clock.ts';
import { chimeEnvelope } from '../media/stream/status-events.ts';
import type { StatusEvents, StreamingEnvelope } from '../media/stream/status-events.ts';
import type { ActionSource, MeetingEvent, MeetingEvents, MeetingSummary, ParticipantSummary } from '../signaling/calls/meeting-events.ts';

/**
 * Meeting events on the event targets the streaming status events use (media/stream: the events
 * file, webhooks, EventBridge, SNS, SQS, NATS, a Kinesis events stream), in the Chime SDK's
 * meeting lifecycle shape: the `aws.chime` EventBridge envelope, detail-type
 * `Chime Meeting State Change`, a detail with `version` "0", `eventType`, `timestamp` (epoch ms) and
 * `meetingId` / `externalMeetingId` / `mediaRegion`, plus `attendeeId` for attendee events.
 *
 *   meeting-started      chime:MeetingStarted
 *   meeting-ended        chime:MeetingEnded     (+ endReason)
 *   participant-joined   chime:AttendeeJoined   (+ attendee fields below)
 *   participant-left     chime:AttendeeLeft, or chime:AttendeeDropped when its media timed out (+ leaveReason);
 *                        only for a participant that had joined (Chime's pairs: no Left without Joined)
 *   participant-muted    chime:AttendeeMuted / chime:AttendeeUnmuted (Carillon's; + mutedBy)
 *   moderator-action     chime:ModeratorAction (Carillon's; + action, actionBy, targetAttendeeId)
 *
 * Attendee fields: attendeeId (Carillon's participant id), externalUserId (the caller's number or
 * SIP user, as Chime put the app's user id there), role, joinPath. `by`: "api", or the acting
 * participant's id. Participants the IVR never placed in a meeting send nothing.
 */
export type MeetingEventType =
  | 'chime:MeetingStarted'
  | 'chime:MeetingEnded'
  | 'chime:AttendeeJoined'
  | 'chime:AttendeeLeft'
  | 'chime:AttendeeDropped'
  | 'chime:AttendeeMuted'
  | 'chime:AttendeeUnmuted'
  | 'chime:ModeratorAction';

const byOf = (by: ActionSource): string => (by.kind === 'api' ? 'api' : by.participantId);

const meetingFields = (m: MeetingSummary, region: string): Record<string, unknown> => ({
  meetingId: m.meetingId,
  externalMeetingId: m.externalMeetingId,
  mediaRegion: region,
});

const attendeeFields = (p: ParticipantSummary): Record<string, unknown> => ({
  attendeeId: p.participantId,
  externalUserId: p.callerNumber,
  role: p.role,
  joinPath: p.joinPath,
});

/** The detail of one meeting event (undefined: the event sends nothing). */
export function meetingEventDetail(e: MeetingEvent, region: string, nowMs: number): Record<string, unknown> | undefined {
  // When it happened, where the summary says; else now.
  const head = (eventType: MeetingEventType, m: MeetingSummary, atMs: number | undefined = nowMs): Record<string, unknown> => ({ eventType, timestamp: atMs, ...meetingFields(m, region) });
  switch (e.type) {
    case 'meeting-started':
      return head('chime:MeetingStarted', e.meeting, e.meeting.startedAtMs);
    case 'meeting-ended':
      return { ...head('chime:MeetingEnded', e.meeting, e.meeting.endedAtMs), endReason: e.reason };
    case 'participant-joined':
      return { ...head('chime:AttendeeJoined', e.meeting, e.participant.joinedAtMs), ...attendeeFields(e.participant) };
    case 'participant-left':
      if (e.meeting === undefined || e.participant.joinedAtMs === undefined) return undefined;
      return { ...head(e.reason === 'media-timeout' ? 'chime:AttendeeDropped' : 'chime:AttendeeLeft', e.meeting, e.participant.endedAtMs), ...attendeeFields(e.participant), leaveReason: e.reason };
    case 'participant-muted':
      return { ...head(e.participant.muted ? 'chime:AttendeeMuted' : 'chime:AttendeeUnmuted', e.meeting), ...attendeeFields(e.participant), mutedBy: byOf(e.by) };
    case 'moderator-action':
      return { ...head('chime:ModeratorAction', e.meeting), action: e.action, actionBy: byOf(e.by), targetAttendeeId: e.target?.participantId };
    default:
      return undefined;
  }
}

/** The envelope of one meeting event (undefined: the event sends nothing). */
export function meetingEnvelope(e: MeetingEvent, account: string, region: string, nowMs: number): StreamingEnvelope | undefined {
  const detail = meetingEventDetail(e, region, nowMs);
  return detail === undefined ? undefined : chimeEnvelope('Chime Meeting State Change', detail, account, region, nowMs);
}

export interface MeetingNotifyOptions {
  /** The AWS account id in the envelope. */
  readonly accountId: string;
  /** The region in the envelope and the detail's mediaRegion. */
  readonly region: string;
  readonly clock: Clock;
}

/** Sends every meeting event to the status event targets (best effort, as streaming's). Returns the unsubscribe. */
export function publishMeetingEvents(events: MeetingEvents, targets: StatusEvents, opts: MeetingNotifyOptions): () => void {
  const off = events.on((e) => {
    const env = meetingEnvelope(e, opts.accountId, opts.region, opts.clock.nowMs());
    if (env !== undefined) targets.emit(env);
  });
  return () => void off();
}
