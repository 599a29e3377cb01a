import type { LegProtocol } from '../../common/call-leg.ts';
import type { MediaQualityRecord } from '../../media/engine.ts';

/**
 * What happens in meetings, for the subscribers that turn it into CDRs (one per participant),
 * quality records, metrics, the weekly usage report and the event targets — and what the control
 * plane may ask of a meeting in progress (LiveMeetings). Every event carries immutable summaries
 * taken when it happened, never the live meeting. Listeners run synchronously and must not throw
 * into signaling (a listener that throws is reported and the others still run).
 */

/** A meeting as its records name it (the store's meeting, or a user's personal meeting room). */
export interface MeetingSummary {
  /** The meeting's id (the Chime SDK MeetingId, a UUID; a personal room: `personal:<userId>`). */
  readonly meetingId: string;
  /** The SDK's ExternalMeetingId, when it has one. */
  readonly externalMeetingId: string | undefined;
  /** The 10-digit meeting ID dialed (Chime's ConferencePin). */
  readonly meetingPin: string;
  /** Who organized it (a personal room's owner), when known. */
  readonly organizerUserId: string | undefined;
  readonly organizerEmail: string | undefined;
  /** The Chime account it belongs to, when known. */
  readonly accountId: string | undefined;
  /** When its first participant joined (epoch ms). */
  readonly startedAtMs: number;
  /** When it ended (epoch ms), once it has. */
  readonly endedAtMs: number | undefined;
}

/** How a participant reached the meeting. */
export type JoinPath = 'dial-in' | 'dial-in-number' | 'dial-out';

/** A participant's standing: host (13-digit host ID), moderator (passcode), or attendee. */
export type ParticipantRole = 'host' | 'moderator' | 'attendee';

export interface ParticipantSummary {
  /** Carillon's id of this participant (unique across meetings). */
  readonly participantId: string;
  readonly meetingId: string;
  readonly role: ParticipantRole;
  readonly joinPath: JoinPath;
  /** Signaling protocol and transport of its leg. */
  readonly protocol: LegProtocol;
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** SRTP on its media. */
  readonly secureMedia: boolean;
  /** Its leg's call identifier on the wire. */
  readonly wireCallId: string;
  /** The calling party (a phone number or SIP user) and its country (ISO 3166 alpha-2), when a number. */
  readonly callerNumber: string;
  readonly callerCountry: string | null;
  /** What it dialed (the meeting URI's user, or the dial-in or dial-out number). */
  readonly destinationNumber: string;
  readonly destinationCountry: string | null;
  /** The bridge codec of its audio (PCMU, PCMA, G722, OPUS). */
  readonly codec: string;
  /** Answered (epoch ms): when its call began. */
  readonly startedAtMs: number;
  /** When it entered the meeting's mix (after the IVR and any waiting room), if it did. */
  readonly joinedAtMs: number | undefined;
  /** When its call ended, once it has. */
  readonly endedAtMs: number | undefined;
  readonly muted: boolean;
}

/** Moderator controls (DTMF or API) the records name. */
export type ModeratorAction = 'start' | 'mute-all-others' | 'lock' | 'unlock' | 'end' | 'remove' | 'mute' | 'unmute' | 'recording-start' | 'recording-stop' | 'stop-presenting';

/** Who did something in a meeting: a participant by DTMF, or the API. */
export type ActionSource = { readonly kind: 'participant'; readonly participantId: string } | { readonly kind: 'api' };

export type MeetingEndReason = 'last-left' | 'ended-by-moderator' | 'ended-by-api' | 'deleted' | 'no-moderator' | 'shutdown';

export type ParticipantLeaveReason = 'hangup' | 'removed' | 'meeting-ended' | 'locked' | 'invalid-id' | 'media-timeout' | 'moderator-timeout' | 'shutdown';

export type MeetingEvent =
  | { readonly type: 'meeting-started'; readonly meeting: MeetingSummary }
  /** Answered: the participant's call began (it may still be in the IVR or waiting). */
  | { readonly type: 'participant-connected'; readonly meeting: MeetingSummary | undefined; readonly participant: ParticipantSummary }
  /** Entered the meeting's mix. */
  | { readonly type: 'participant-joined'; readonly meeting: MeetingSummary; readonly participant: ParticipantSummary }
  | { readonly type: 'participant-muted'; readonly meeting: MeetingSummary; readonly participant: ParticipantSummary; readonly by: ActionSource }
  | { readonly type: 'moderator-action'; readonly meeting: MeetingSummary; readonly action: ModeratorAction; readonly by: ActionSource; readonly target: ParticipantSummary | undefined }
  /** Its call ended; `meeting` undefined when it never reached one (the IVR gave up). */
  | { readonly type: 'participant-left'; readonly meeting: MeetingSummary | undefined; readonly participant: ParticipantSummary; readonly reason: ParticipantLeaveReason }
  /** After participant-left, once its media closed: its final quality record (Chime field names). */
  | { readonly type: 'participant-quality'; readonly meeting: MeetingSummary | undefined; readonly participant: ParticipantSummary; readonly record: MediaQualityRecord }
  | { readonly type: 'meeting-ended'; readonly meeting: MeetingSummary; readonly reason: MeetingEndReason; readonly participants: readonly ParticipantSummary[] };

export type MeetingEventListener = (e: MeetingEvent) => void;

export class MeetingEvents {
  readonly #listeners = new Set<MeetingEventListener>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  on(listener: MeetingEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(e: MeetingEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}

/** A participant of a meeting in progress, as the API's live view shows it. */
export interface LiveParticipant {
  readonly participantId: string;
  readonly role: ParticipantRole;
  readonly joinPath: JoinPath;
  readonly protocol: LegProtocol;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly callerNumber: string;
  readonly codec: string;
  /** 'ivr': asked for the meeting ID (not yet in a meeting); 'waiting': a moderated meeting not started; 'in-meeting': mixed. */
  readonly state: 'waiting' | 'in-meeting';
  readonly muted: boolean;
  readonly talking: boolean;
  /** The latest MOS of its audio toward Carillon (1.0–4.4), null before the first measurement. */
  readonly mos: number | null;
  /** Its camera video (null: none agreed): the codec, and whether it sent video over the last sweep. */
  readonly video: { readonly codec: string; readonly sending: boolean } | null;
  /** It holds the content floor (BFCP or H.239): its content stream is what everyone sees as content. */
  readonly presenting: boolean;
  readonly joinedAtMs: number;
}

export interface LiveMeeting {
  readonly meetingId: string;
  /** A moderated meeting a moderator has not started yet. */
  readonly started: boolean;
  readonly locked: boolean;
  readonly recording: boolean;
  readonly participants: readonly LiveParticipant[];
}

/** Why a moderator action through the API could not be done. */
export type LiveActionResult = 'ok' | 'no-such-meeting' | 'no-such-participant';

/** A dial-out's outcome when it was placed (the answered leg then joins the meeting). */
export type DialOutResult =
  | { readonly ok: true; readonly transactionId: string }
  | { readonly ok: false; readonly reason: 'no-such-meeting' | 'bad-number' | 'no-route' | 'meeting-full' | 'locked'; readonly message: string };

/** What the control plane may ask of meetings in progress (the meeting call layer implements it). */
export interface LiveMeetings {
  /** The meeting's live state; undefined when nobody is in it and nothing was set on it. */
  live(meetingId: string): LiveMeeting | undefined;
  /** Mutes or unmutes one participant. */
  mute(meetingId: string, participantId: string, muted: boolean): LiveActionResult;
  /** Mutes everyone but `exceptParticipantId` (if given). */
  muteAllOthers(meetingId: string, exceptParticipantId: string | undefined): LiveActionResult;
  /** Hangs up one participant. */
  remove(meetingId: string, participantId: string): LiveActionResult;
  /** Locks or unlocks (a locked meeting refuses new joins); works before anyone joined too. */
  lock(meetingId: string, locked: boolean): LiveActionResult;
  /** Takes the content floor from whoever presents (BFCP: Revoked; H.239: the token taken back); 'ok' when nobody did. */
  stopPresenting(meetingId: string): LiveActionResult;
  /** Ends the meeting for everyone (BYE to every leg). */
  end(meetingId: string, reason: 'ended-by-api' | 'deleted'): LiveActionResult;
  /** Calls `toNumber` (E.164) through the carriers, from `fromNumber` (E.164) if given, and joins the answered leg. */
  dialOut(meetingId: string, toNumber: string, fromNumber: string | undefined): DialOutResult;
}
