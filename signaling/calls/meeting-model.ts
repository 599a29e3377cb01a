import type { CallLegControl, SessionBody } from '../../common/call-leg.ts';
import type { TimerHandle } from '../../common/clock.ts';
import type { EndpointSnapshot } from '../../media/protocol.ts';
import type { MeetingInfo } from '../routing/meeting-dial-in.ts';
import { parseMultipart } from '../sdp/multipart.ts';
import { countryOf } from './call-media.ts';
import type { DtmfCollector } from './dtmf-collector.ts';
import type { MeetingEndReason, JoinPath, MeetingSummary, ParticipantRole, ParticipantSummary } from './meeting-events.ts';
import type { LocalAudio, offerKey, ParticipantAudio } from './meeting-sdp.ts';
import type { ParticipantVideoMedia } from './participant-video.ts';

/**
 * The meeting call layer's model: a participant (one call Carillon answered, or placed for a
 * dial-out) and a meeting room as meeting-calls.ts holds them, and what events and records say
 * of them.
 */

export type ParticipantState = 'answering' | 'ivr' | 'waiting' | 'in-meeting' | 'leaving' | 'gone';

export interface Participant {
  readonly id: string;
  /** Its call's leg (a dial-out's changes while it fails over to another carrier). */
  leg: CallLegControl;
  readonly joinPath: JoinPath;
  transport: 'udp' | 'tcp' | 'tls';
  wireCallId: string;
  readonly callerNumber: string;
  readonly destinationNumber: string;
  /** Its media session: its own while in the IVR, the meeting's once it picked one. */
  session: string;
  audio: ParticipantAudio | undefined;
  /** Its camera and presentation content lines (open once Carillon answered them). */
  readonly video: ParticipantVideoMedia;
  local: LocalAudio | undefined;
  /** The description Carillon answered (or offered) with. */
  answer: SessionBody | undefined;
  /** Carillon's 2xx went out. */
  answeredLeg: boolean;
  /** The key Carillon offered in its own offer (late offer on a secure line). */
  offeredKey: ReturnType<typeof offerKey> | undefined;
  state: ParticipantState;
  room: Room | undefined;
  role: ParticipantRole;
  muted: boolean;
  talking: boolean;
  readonly collector: DtmfCollector;
  tries: number;
  language: string;
  /** The play whose end moves it on, and what then. */
  playToken: number;
  afterPlay: (() => void) | undefined;
  /** Waiting room: the cue and give-up timers; the guard of a last prompt. */
  cueTimer: TimerHandle | undefined;
  waitTimer: TimerHandle | undefined;
  lastTimer: TimerHandle | undefined;
  readonly startedAtMs: number;
  joinedAtMs: number | undefined;
  endedAtMs: number | undefined;
  /** Quality: the figures of the last record and when it was written; the latest MOS. */
  prev: EndpointSnapshot | undefined;
  lastRecordMs: number;
  mos: number | null;
  /** Media timeout: received packets at the last sweep and when they last changed. */
  seenPackets: number;
  seenAtMs: number;
}

export interface Room {
  readonly meetingId: string;
  info: MeetingInfo;
  readonly session: string;
  readonly participants: Map<string, Participant>;
  /** A moderated meeting a host or moderator started (an unmoderated one is started from its first join). */
  started: boolean;
  locked: boolean;
  recording: boolean;
  startedAtMs: number | undefined;
  ending: boolean;
  endReason: MeetingEndReason | undefined;
  /** Everyone who was in it (for meeting-ended), at most MAX_REMEMBERED. */
  readonly left: ParticipantSummary[];
}

/** Participants a meeting remembers for its meeting-ended event. */
export const MAX_REMEMBERED = 5_000;

export const SDP = 'application/sdp';

export function sdpOf(body: SessionBody | undefined): string | undefined {
  if (body === undefined) return undefined;
  if (body.contentType.toLowerCase().startsWith(SDP)) return body.bytes.toString('utf8');
  return parseMultipart(body.bytes, body.contentType)
    ?.find((p) => p.contentType.toLowerCase().startsWith(SDP))
    ?.body.toString('utf8');
}

/** The media session of a meeting: its participants and its bridge, on one media worker. */
export function meetingSession(meetingId: string): string {
  return `mtg-${meetingId}`;
}

/** What events and records say of a meeting at `nowMs`. */
export function meetingSummaryOf(room: Room, nowMs: number): MeetingSummary {
  return {
    meetingId: room.meetingId,
    externalMeetingId: room.info.externalMeetingId,
    meetingPin: room.info.meetingPin,
    organizerUserId: room.info.organizerUserId,
    organizerEmail: room.info.organizerEmail,
    accountId: room.info.accountId,
    startedAtMs: room.startedAtMs ?? nowMs,
    endedAtMs: room.ending ? nowMs : undefined,
  };
}

/** What events and records say of a participant. */
export function participantSummaryOf(p: Participant): ParticipantSummary {
  return {
    participantId: p.id,
    meetingId: p.room?.meetingId ?? '',
    role: p.role,
    joinPath: p.joinPath,
    protocol: p.leg.protocol,
    transport: p.transport,
    secureMedia: p.audio?.srtp !== undefined,
    wireCallId: p.wireCallId,
    callerNumber: p.callerNumber,
    callerCountry: countryOf(p.callerNumber),
    destinationNumber: p.destinationNumber,
    destinationCountry: countryOf(p.destinationNumber),
    codec: p.audio?.codec ?? '',
    startedAtMs: p.startedAtMs,
    joinedAtMs: p.joinedAtMs,
    endedAtMs: p.endedAtMs,
    muted: p.muted,
  };
}
