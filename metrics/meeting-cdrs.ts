import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.ts';
import { billableMinutes, CdrFiles, cdrKeyOf } from './cdr.ts';
import type { CdrRecord } from './cdr.ts';
import type { MeetingEvent, MeetingEvents, MeetingSummary, ParticipantLeaveReason, ParticipantSummary } from '../signaling/calls/meeting-events.ts';

/**
 * Call detail records of meeting participants: one per participant's call (dial-in or dial-out),
 * in the trunk CDRs' format (cdr.ts: Chime's CDR JSON, every value a string, SchemaVersion "2.0")
 * with Chime's conference fields filled, under the same key layout and spool (`<data>/cdrs`, which
 * the bucket uploader walks), written whole then renamed.
 *
 * When: at participant-left, as Chime did ("after each call"): a participant's record does not
 * wait for the meeting to end (a personal room can stay open for days, and a record held back is
 * a record a crash loses). ConferenceEndTimeEpochSeconds is therefore the meeting's end as known
 * when the participant left: the meeting's end if it had ended by then (meeting-ended came first,
 * or the participant's meeting summary carries its end), else the moment the participant left
 * (the meeting lasted at least that long). The last participant's record of a meeting that ends
 * because everyone left carries the meeting's real end either way.
 *
 * ServiceCode: Chime's only documented code for CDRs that carry conference fields is
 * "AmazonChimeBusinessCalling" (the Business Calling CDR of the admin guide, with ConferenceId,
 * ConferencePin and Organizer…); meeting legs use it. Direction: Inbound for dial-in (SIP URI or a
 * dial-in number), Outbound for dial-out. The start and end are those of the participant's call
 * (answer to hang-up, IVR and waiting room included: that is the time its line was held), billed in
 * whole seconds rounded up.
 *
 * Carillon's fields, as the trunk CDRs have them: TransactionId (the participant's id), CallId (its
 * leg's call identifier), Region, Leg (Caller for dial-in, Callee for dial-out), Status (Completed),
 * SipStatusCode ("200": every participant was answered), VoiceConnectorId (empty: a meeting leg
 * belongs to no voice connector); and the meeting ones: ParticipantId, ParticipantRole, JoinPath,
 * Transport, SecureMedia, Codec, JoinedTimeEpochSeconds (when it entered the mix; empty if it never
 * did), LeaveReason. A participant that never reached a meeting (the IVR gave up) still gets a
 * record, with the conference fields empty, filed under its participant id.
 */
export interface MeetingCdrRecord extends CdrRecord {
  readonly ParticipantId: string;
  readonly ParticipantRole: string;
  readonly JoinPath: string;
  readonly Transport: string;
  readonly SecureMedia: 'true' | 'false';
  readonly Codec: string;
  readonly JoinedTimeEpochSeconds: string;
  readonly LeaveReason: string;
}

/** Chime's ServiceCode for records that carry conference fields (see above). */
export const MEETING_CDR_SERVICE_CODE = 'AmazonChimeBusinessCalling';

export interface MeetingCdrInput {
  readonly meeting: MeetingSummary | undefined;
  readonly participant: ParticipantSummary;
  readonly reason: ParticipantLeaveReason;
  /** The participant's call end (epoch ms). */
  readonly endMs: number;
  /** The meeting's end as known when the participant left (epoch ms). */
  readonly conferenceEndMs: number;
  /** The AWS account the records are filed under (12 digits). */
  readonly accountId: string;
  readonly region: string;
  readonly cdrId: string;
  readonly status: 'Completed' | 'Interrupted';
}

const secs = (ms: number): string => String(Math.floor(ms / 1000));

/** One participant's record. */
export function meetingCdrRecord(i: MeetingCdrInput): MeetingCdrRecord {
  const { meeting: m, participant: p } = i;
  const startMs = p.startedAtMs;
  const endMs = Math.max(i.endMs, startMs);
  const billable = Math.max(0, Math.ceil((endMs - startMs) / 1000));
  const outbound = p.joinPath === 'dial-out';
  return {
    SchemaVersion: '2.0',
    CdrId: i.cdrId,
    ServiceCode: MEETING_CDR_SERVICE_CODE,
    ChimeAccountId: m?.accountId ?? '',
    AwsAccountId: i.accountId,
    ConferenceId: m?.meetingId ?? '',
    ConferencePin: m?.meetingPin ?? '',
    OrganizerUserId: m?.organizerUserId ?? '',
    OrganizerEmail: m?.organizerEmail ?? '',
    CallerPhoneNumber: p.callerNumber,
    CallerCountry: p.callerCountry ?? '',
    DestinationPhoneNumber: p.destinationNumber,
    DestinationCountry: p.destinationCountry ?? '',
    ConferenceStartTimeEpochSeconds: m === undefined ? '' : secs(m.startedAtMs),
    ConferenceEndTimeEpochSeconds: m === undefined ? '' : secs(Math.max(i.conferenceEndMs, m.startedAtMs)),
    StartTimeEpochSeconds: secs(startMs),
    EndTimeEpochSeconds: secs(endMs),
    BillableDurationSeconds: String(billable),
    BillableDurationMinutes: billableMinutes(billable),
    Direction: outbound ? 'Outbound' : 'Inbound',
    VoiceConnectorId: '',
    TransactionId: p.participantId,
    CallId: p.wireCallId,
    Region: i.region,
    Leg: outbound ? 'Callee' : 'Caller',
    Status: i.status,
    SipStatusCode: '200',
    ParticipantId: p.participantId,
    ParticipantRole: p.role,
    JoinPath: p.joinPath,
    Transport: p.transport.toUpperCase(),
    SecureMedia: p.secureMedia ? 'true' : 'false',
    Codec: p.codec,
    JoinedTimeEpochSeconds: p.joinedAtMs === undefined ? '' : secs(p.joinedAtMs),
    LeaveReason: i.reason,
  };
}

/** A name safe as one path segment and S3 key part: letters, digits and `:._-`, anything else `_` (never `.` or `..`). */
export function keySegment(s: string): string {
  const clean = s.slice(0, 128).replace(/[^A-Za-z0-9:._-]/g, '_');
  return clean === '' || clean === '.' || clean === '..' ? '_' : clean;
}

/** The record's key: Chime's layout, filed under the meeting (or the participant, when it reached none), dated by the participant's answer. */
export function meetingCdrKey(r: MeetingCdrRecord, startMs: number): string {
  return cdrKeyOf(r.AwsAccountId, keySegment(r.ConferenceId === '' ? r.ParticipantId : r.ConferenceId), r.CdrId, startMs);
}

export interface MeetingCdrWriterOptions {
  /** The CDR spool (`<data>/cdrs`, shared with the trunk CDRs). */
  readonly dir: string;
  /** The AWS account id (12 digits) the records are filed under. */
  readonly accountId: string;
  /** The region written in Region. */
  readonly region: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told of each file once it is complete on disk (the bucket uploader). */
  readonly onWritten?: ((file: string) => void) | undefined;
}

export interface MeetingCdrWriter {
  /** Records written so far, and those a disk error lost (logged). */
  readonly counters: { readonly written: number; readonly failed: number };
  /** Stops listening. */
  close(): void;
}

/**
 * Writes a meeting participant's CDR when it leaves. Before the file is written nothing else has
 * to happen (no journal: see metrics/README.md): the uploader hears of it once it is whole.
 */
export function writeMeetingCdrs(events: MeetingEvents, opts: MeetingCdrWriterOptions): MeetingCdrWriter {
  const files = new CdrFiles(opts.dir);
  const counters = { written: 0, failed: 0 };
  // Participants of each meeting not yet left, and the end of meetings that ended with some still
  // in (their records carry that end). Both forgotten when the meeting's last participant leaves.
  const inMeeting = new Map<string, Set<string>>();
  const endedAt = new Map<string, number>();

  const enter = (meetingId: string, participantId: string): void => {
    let s = inMeeting.get(meetingId);
    if (s === undefined) inMeeting.set(meetingId, (s = new Set()));
    s.add(participantId);
  };
  const leave = (meetingId: string, participantId: string): void => {
    const s = inMeeting.get(meetingId);
    s?.delete(participantId);
    if (s === undefined || s.size === 0) {
      inMeeting.delete(meetingId);
      endedAt.delete(meetingId);
    }
  };

  const onLeft = (meeting: MeetingSummary | undefined, p: ParticipantSummary, reason: ParticipantLeaveReason): void => {
    const endMs = p.endedAtMs ?? opts.clock.nowMs();
    const conferenceEndMs = meeting === undefined ? endMs : (meeting.endedAtMs ?? endedAt.get(meeting.meetingId) ?? endMs);
    if (meeting !== undefined) leave(meeting.meetingId, p.participantId);
    const r = meetingCdrRecord({ meeting, participant: p, reason, endMs, conferenceEndMs, accountId: opts.accountId, region: opts.region, cdrId: crypto.randomUUID(), status: 'Completed' });
    let file: string;
    try {
      file = files.write(meetingCdrKey(r, p.startedAtMs), `${JSON.stringify(r)}\n`);
    } catch (err) {
      counters.failed++;
      opts.logger.error({ err, participant: p.participantId, meeting: meeting?.meetingId, cdr: r.CdrId }, 'meeting CDR not written');
      return;
    }
    counters.written++;
    opts.onWritten?.(file);
  };

  const off = events.on((e: MeetingEvent) => {
    switch (e.type) {
      case 'participant-connected':
        if (e.meeting !== undefined) enter(e.meeting.meetingId, e.participant.participantId);
        return;
      case 'participant-joined':
        enter(e.meeting.meetingId, e.participant.participantId);
        return;
      case 'meeting-ended': {
        const id = e.meeting.meetingId;
        if ((inMeeting.get(id)?.size ?? 0) > 0) endedAt.set(id, e.meeting.endedAtMs ?? opts.clock.nowMs());
        return;
      }
      case 'participant-left':
        onLeft(e.meeting, e.participant, e.reason);
        return;
      default:
        return;
    }
  });

  return {
    counters,
    close() {
      off();
    },
  };
}
