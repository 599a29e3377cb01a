import crypto from 'node:crypto';
import type { Logger } from 'pino';
import Type from 'typebox';
import Value from 'typebox/value';
import type { Clock } from '../common/clock.ts';
import { billableMinutes, CdrFiles, cdrKeyOf } from './cdr.ts';
import type { CdrRecord } from './cdr.ts';
import { RecordJournal } from './cdr-journal.ts';
import type { CdrJournalOptions, Interrupted, JournalCodec } from './cdr-journal.ts';
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
 *
 * A participant in progress when the process dies gets its record at the next start, from the
 * participants' journal (`<data>/journal/meeting-cdrs.jsonl`, the CDR journal's format with the
 * participant's and its meeting's summaries as begin records: journaled when it is answered and
 * again when it enters a meeting), with Status "Interrupted", LeaveReason "interrupted" and the
 * journal's last moment known as its end (and the conference's).
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
  readonly reason: ParticipantLeaveReason | 'interrupted';
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
  /** The participants' journal (participantJournal()); absent: none (a crash loses the records of participants in progress). */
  readonly journal?: RecordJournal<JournaledParticipant> | undefined;
}

export interface MeetingCdrWriter {
  /** Records written so far, and those a disk error lost (logged). */
  readonly counters: { readonly written: number; readonly failed: number };
  /**
   * Writes the records of the participants the journal shows in progress when the last run died,
   * then starts a fresh journal. Call before meetings are taken. Returns how many it wrote.
   */
  start(): number;
  /** Stops listening and closes the journal. */
  close(): void;
}

/** A participant in progress as its journal's begin record holds it (epoch ms throughout). */
export interface JournaledParticipant {
  readonly cdrId: string;
  /** The AWS account its record is filed under. */
  readonly accountId: string;
  readonly region: string;
  readonly meeting: MeetingSummary | undefined;
  readonly participant: ParticipantSummary;
}

const Ms = Type.Integer({ minimum: 0 });
const Text = Type.String({ maxLength: 1024 });
const OptText = Type.Optional(Text);
const Country = Type.Union([Type.String({ pattern: '^[A-Z]{2}$' }), Type.Null()]);
const ParticipantBegin = Type.Object({
  t: Type.Literal('begin'),
  // Named in the record's file (its CdrId, the account): checked, so a damaged line can't point a path elsewhere.
  cdr: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
  account: Type.String({ pattern: '^[0-9]{12}$' }),
  region: Text,
  m: Type.Optional(
    Type.Object({ id: Text, ext: OptText, pin: Text, org: OptText, email: OptText, chime: OptText, start: Ms }),
  ),
  p: Type.Object({
    id: Text,
    mid: Text,
    role: Type.Union([Type.Literal('host'), Type.Literal('moderator'), Type.Literal('attendee')]),
    path: Type.Union([Type.Literal('dial-in'), Type.Literal('dial-in-number'), Type.Literal('dial-out')]),
    /** Absent in records written before H.323 legs existed: SIP. */
    proto: Type.Optional(Type.Union([Type.Literal('sip'), Type.Literal('h323')])),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')]),
    srtp: Type.Boolean(),
    wire: Text,
    from: Text,
    fromCc: Country,
    to: Text,
    toCc: Country,
    codec: Text,
    start: Ms,
    joined: Type.Optional(Ms),
    muted: Type.Boolean(),
  }),
});

/** The participants' begin records (keyed by participant id, answered at the participant's start). */
export const participantCodec: JournalCodec<JournaledParticipant> = {
  encode(j) {
    const { meeting: m, participant: p } = j;
    return `${JSON.stringify({
      t: 'begin',
      cdr: j.cdrId,
      account: j.accountId,
      region: j.region,
      m: m === undefined ? undefined : { id: m.meetingId, ext: m.externalMeetingId, pin: m.meetingPin, org: m.organizerUserId, email: m.organizerEmail, chime: m.accountId, start: m.startedAtMs },
      p: {
        id: p.participantId,
        mid: p.meetingId,
        role: p.role,
        path: p.joinPath,
        proto: p.protocol,
        transport: p.transport,
        srtp: p.secureMedia,
        wire: p.wireCallId,
        from: p.callerNumber,
        fromCc: p.callerCountry,
        to: p.destinationNumber,
        toCc: p.destinationCountry,
        codec: p.codec,
        start: p.startedAtMs,
        joined: p.joinedAtMs,
        muted: p.muted,
      },
    })}\n`;
  },
  decode(v) {
    if (!Value.Check(ParticipantBegin, v)) return undefined;
    const { m, p } = v;
    return {
      cdrId: v.cdr,
      accountId: v.account,
      region: v.region,
      meeting:
        m === undefined
          ? undefined
          : { meetingId: m.id, externalMeetingId: m.ext, meetingPin: m.pin, organizerUserId: m.org, organizerEmail: m.email, accountId: m.chime, startedAtMs: m.start, endedAtMs: undefined },
      participant: {
        participantId: p.id,
        meetingId: p.mid,
        role: p.role,
        joinPath: p.path,
        protocol: p.proto ?? 'sip',
        transport: p.transport,
        secureMedia: p.srtp,
        wireCallId: p.wire,
        callerNumber: p.from,
        callerCountry: p.fromCc,
        destinationNumber: p.to,
        destinationCountry: p.toCc,
        codec: p.codec,
        startedAtMs: p.start,
        joinedAtMs: p.joined,
        endedAtMs: undefined,
        muted: p.muted,
      },
    };
  },
  key: (j) => j.participant.participantId,
  answerMs: (j) => j.participant.startedAtMs,
};

/** The participants' journal (`<data>/journal/meeting-cdrs.jsonl`). */
export function participantJournal(opts: CdrJournalOptions): RecordJournal<JournaledParticipant> {
  return new RecordJournal(opts, participantCodec);
}

/** The record of a participant a crash interrupted: ended (and its conference as known) at the journal's last moment. */
export function interruptedMeetingCdr(j: Interrupted<JournaledParticipant>): MeetingCdrRecord {
  return meetingCdrRecord({
    meeting: j.meeting,
    participant: j.participant,
    reason: 'interrupted',
    endMs: j.endMs,
    conferenceEndMs: j.endMs,
    accountId: j.accountId,
    region: j.region,
    cdrId: j.cdrId,
    status: 'Interrupted',
  });
}

/**
 * Writes a meeting participant's CDR when it leaves. Before the file is written nothing else has
 * to happen (no journal: see metrics/README.md): the uploader hears of it once it is whole.
 */
export function writeMeetingCdrs(events: MeetingEvents, opts: MeetingCdrWriterOptions): MeetingCdrWriter {
  const files = new CdrFiles(opts.dir);
  const counters = { written: 0, failed: 0 };
  const journal = opts.journal;
  /** Participants journaled (answered, record not yet written), by id. */
  const journaled = new Map<string, JournaledParticipant>();
  const track = (meeting: MeetingSummary | undefined, p: ParticipantSummary): void => {
    const had = journaled.get(p.participantId);
    // Once answered, and again when it enters a meeting or its mix (what its record needs then known).
    const news = had === undefined || (meeting !== undefined && had.meeting === undefined) || (had.participant.joinedAtMs === undefined && p.joinedAtMs !== undefined);
    if (!news) return;
    const j: JournaledParticipant = { cdrId: had?.cdrId ?? crypto.randomUUID(), accountId: opts.accountId, region: opts.region, meeting: meeting ?? had?.meeting, participant: p };
    journaled.set(p.participantId, j);
    if (journal === undefined) return;
    if (had !== undefined) journal.end(p.participantId);
    journal.begin(j);
  };
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
    const j = journaled.get(p.participantId);
    journaled.delete(p.participantId);
    const r = meetingCdrRecord({ meeting, participant: p, reason, endMs, conferenceEndMs, accountId: opts.accountId, region: opts.region, cdrId: j?.cdrId ?? crypto.randomUUID(), status: 'Completed' });
    let file: string | undefined;
    try {
      file = files.write(meetingCdrKey(r, p.startedAtMs), `${JSON.stringify(r)}\n`);
      counters.written++;
    } catch (err) {
      counters.failed++;
      opts.logger.error({ err, participant: p.participantId, meeting: meeting?.meetingId, cdr: r.CdrId }, 'meeting CDR not written');
    }
    // After the file (a crash before this: the next start finds the file and keeps it); ended even
    // when the file failed (it did end: an "Interrupted" record later would bill it to a later time).
    if (j !== undefined) journal?.end(p.participantId);
    if (file !== undefined) opts.onWritten?.(file);
  };

  const off = events.on((e: MeetingEvent) => {
    switch (e.type) {
      case 'participant-connected':
        if (e.meeting !== undefined) enter(e.meeting.meetingId, e.participant.participantId);
        track(e.meeting, e.participant);
        return;
      case 'participant-joined':
        enter(e.meeting.meetingId, e.participant.participantId);
        track(e.meeting, e.participant);
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
    start() {
      if (journal === undefined) return 0;
      return journal.open((j) => {
        const r = interruptedMeetingCdr(j);
        let file: string;
        try {
          // Kept if there: a crash between a participant's file and its end record.
          file = files.write(meetingCdrKey(r, j.participant.startedAtMs), `${JSON.stringify(r)}\n`, true);
        } catch (err) {
          opts.logger.error({ err, participant: j.participant.participantId, cdr: j.cdrId }, 'meeting CDR of an interrupted participant not written');
          return false;
        }
        counters.written++;
        opts.onWritten?.(file);
        return true;
      });
    },
    close() {
      off();
      journal?.close();
    },
  };
}
