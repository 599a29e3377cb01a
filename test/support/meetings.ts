import type { MeetingSummary, ParticipantSummary } from '../../signaling/calls/meeting-events.ts';

/** A meeting summary as the meeting call layer emits it (fields overridable). */
export function meetingSummary(o: Partial<MeetingSummary> = {}): MeetingSummary {
  return {
    meetingId: 'c0ffee00-0000-4000-8000-00000000aaaa',
    externalMeetingId: 'weekly-sync',
    meetingPin: '4155550123',
    organizerUserId: 'user-ana',
    organizerEmail: 'ana@example.com',
    accountId: '12a3456b-7c89-412d-8456-78901e23f045',
    startedAtMs: Date.UTC(2026, 10, 3, 17, 10, 0, 20),
    endedAtMs: undefined,
    ...o,
  };
}

/** A participant summary (a dial-in by SIP URI over UDP unless overridden). */
export function participantSummary(o: Partial<ParticipantSummary> = {}): ParticipantSummary {
  return {
    participantId: 'p-1',
    meetingId: 'c0ffee00-0000-4000-8000-00000000aaaa',
    role: 'attendee',
    joinPath: 'dial-in',
    protocol: 'sip',
    transport: 'udp',
    secureMedia: false,
    wireCallId: 'a84b4c76e66710@192.0.2.4',
    callerNumber: '+12065550100',
    callerCountry: 'US',
    destinationNumber: '4155550123',
    destinationCountry: null,
    codec: 'PCMU',
    startedAtMs: Date.UTC(2026, 10, 3, 17, 10, 0, 20),
    joinedAtMs: undefined,
    endedAtMs: undefined,
    muted: false,
    ...o,
  };
}
