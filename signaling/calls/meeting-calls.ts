import type { Logger } from 'pino';
import type { CallLegControl, HangupCause, LegEvents, OfferOutcome, PeerOffer, PeerRequest, SessionBody } from '../../common/call-leg.ts';
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import type { IncomingCall } from '../../common/incoming-call.ts';
import type { Random } from '../../common/random.ts';
import type { MeetingTarget } from '../../common/route.ts';
import { participantQualityRecord, videoQualityRecord } from '../../media/engine.ts';
import type { MediaControl, MediaQualityRecord, QualityLog } from '../../media/engine.ts';
import type { EndpointSnapshot, MediaEvent, PromptItem } from '../../media/protocol.ts';
import type { MeetingDirectory, MeetingInfo } from '../routing/meeting-dial-in.ts';
import { readSdp } from '../sdp/anchor.ts';
import type { SessionDescription } from '../sdp/anchor.ts';
import { countryOf } from './call-media.ts';
import { DtmfCollector } from './dtmf-collector.ts';
import type { DtmfControl, DtmfEntry } from './dtmf-collector.ts';
import { CARRIER_ORDER, answerSdp, audioOfAnswer, chooseAudio, offerKey, offerSdp, reofferSdp } from './meeting-sdp.ts';
import type { CarrierDialOut } from './dial-out.ts';
import type { LocalAudio, ParticipantAudio } from './meeting-sdp.ts';
import { isPictureFastUpdate, MEDIA_CONTROL_TYPE, participantOfVideoEndpoint, PICTURE_FAST_UPDATE_XML } from './meeting-video.ts';
import type { MeetingContent } from './meeting-content.ts';
import { ParticipantVideoMedia } from './participant-video.ts';
import type { VideoLine } from './participant-video.ts';
import type {
  ActionSource,
  DialOutResult,
  JoinPath,
  LiveActionResult,
  LiveMeeting,
  LiveMeetings,
  MeetingEndReason,
  MeetingEvents,
  MeetingSummary,
  ModeratorAction,
  ParticipantLeaveReason,
  ParticipantRole,
  ParticipantSummary,
} from './meeting-events.ts';
import { MAX_REMEMBERED, meetingSession, meetingSummaryOf, participantSummaryOf, SDP, sdpOf } from './meeting-model.ts';
import type { Participant, ParticipantState, Room } from './meeting-model.ts';
import type { MeetingCalls as MeetingCallsPort } from './trunk-calls.ts';

export { meetingSession } from './meeting-model.ts';

/**
 * Meeting calls: every call routing sent to a meeting (SPEC §2: `<10-digit ID>@<meeting domain>`,
 * `<13-digit host ID>@…`, `u@…`, the bare domain, a dial-in number) is a participant of one leg
 * whose far end is Carillon itself. Carillon answers its offer (meeting-sdp.ts), opens one media
 * endpoint for it — inside the meeting's media session, so a meeting's participants and its
 * audio bridge live on one media worker — and takes it through:
 *
 *   IVR (meeting ID + `#`, three tries) → [waiting room: a moderated meeting not started yet]
 *   → in the meeting (mixed; DTMF controls) → gone
 *
 * Digits come from RFC 4733 (media events) and SIP INFO (the leg's requests) into one
 * DtmfCollector per participant. Prompts play in the media worker (PlayCommand); a digit typed
 * while one plays stops it (barge-in). Moderated meetings follow Chime's rules: until a host
 * (13-digit ID) or a moderator (passcode + `#`, at any time) starts it, participants wait on hold
 * audio with a voice cue every minute, for at most ten minutes.
 */

/** Tries at the meeting ID before the goodbye prompt. */
export const IVR_TRIES = 3;
/** How long a moderated meeting's participant waits for a host or moderator. */
export const WAITING_ROOM_MS = 10 * 60_000;
/** The waiting room's voice cue repeats this often. */
export const WAITING_CUE_MS = 60_000;
/** Longest a goodbye (or any last prompt) may take before the BYE goes anyway. */
const LAST_PROMPT_GUARD_MS = 30_000;
/** Longest entry the IVR takes: a 13-digit host ID. */
const IVR_MAX_DIGITS = 13;

export interface MeetingCallsOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly logger: Logger;
  readonly control: MediaControl;
  /** Carillon's advertised media address (c= lines). */
  readonly address: string;
  readonly directory: MeetingDirectory;
  /** Whether the bridge mixes a codec (an SDP rtpmap name). */
  readonly mixable: (codec: string) => boolean;
  /** Presentation content: the meetings' floors over BFCP and H.239 (absent: content lines are refused). */
  readonly content?: MeetingContent | undefined;
  readonly events?: MeetingEvents | undefined;
  readonly qualityLog?: QualityLog | undefined;
  /** Per-participant quality records, every this often (Chime: 60 s). */
  readonly qualityIntervalMs: number;
  /** A participant whose audio stops for this long is hung up (0 = never). */
  readonly mediaTimeoutMs: number;
  readonly region: string;
  /** The IVR's language before a meeting is known. */
  readonly defaultLanguage: string;
  /** Places dial-out legs through the carriers (absent: dial-out is unavailable). */
  readonly dialOut?: CarrierDialOut | undefined;
  /** Where a meeting's recording goes (its mix, while recording is on: `*9` or the API); absent: recording is refused. */
  readonly recording?: MeetingRecording | undefined;
  /** Called when a call routing sent here ends before Carillon answered it (counted by the edge too). */
  readonly onRefused?: (status: number) => void;
}

/**
 * A meeting's recording: the mix of the meeting's media session (`session`) written to the
 * streaming sinks (MKV/WAV files by default) from start to stop. `start` resolves false when it
 * could not begin (recording stays off).
 */
export interface MeetingRecording {
  start(meeting: MeetingSummary, session: string): Promise<boolean>;
  stop(meetingId: string): Promise<void>;
}

const speech = (language: string, name: string): PromptItem => ({ kind: 'speech', language, name });

export class MeetingCalls implements MeetingCallsPort, LiveMeetings {
  readonly #o: MeetingCallsOptions;
  readonly #rooms = new Map<string, Room>();
  /** Participants by id (= their media endpoint id). */
  readonly #participants = new Map<string, Participant>();
  #playTokens = 1;
  #sweepTimer: TimerHandle | undefined;
  #draining = false;
  readonly counters = { answered: 0, refused: 0, ivrFailures: 0, lockedRefusals: 0, fullRefusals: 0, dtmfDigits: 0, dialOuts: 0, dialOutFailures: 0, keyFrameRequests: 0 };

  constructor(o: MeetingCallsOptions) {
    this.#o = o;
  }

  get participants(): number {
    return this.#participants.size;
  }

  get meetingsActive(): number {
    let n = 0;
    for (const r of this.#rooms.values()) if (r.participants.size > 0) n++;
    return n;
  }

  // ---- New calls ----

  take(incoming: IncomingCall, target: MeetingTarget): void {
    const o = this.#o;
    if (this.#draining) return this.#refuse(incoming, 503, 'Service Shutting Down');
    const leg = incoming.leg;
    const id = `p-${o.random.token(16)}`;
    const info = target.kind === 'meeting' ? o.directory.meeting(target.meetingId) : undefined;
    const room = info === undefined ? undefined : this.#room(info);
    if (room !== undefined && this.#full(room)) {
      this.counters.fullRefusals++;
      return this.#refuse(incoming, 486, 'Meeting Full');
    }
    let audio: ParticipantAudio | undefined;
    let desc: SessionDescription | undefined;
    if (incoming.offer !== undefined) {
      desc = readSdp(sdpOf(incoming.offer) ?? '');
      if (desc === undefined) return this.#refuse(incoming, 488, 'Unreadable Session Description');
      const chosen = chooseAudio(desc, o.mixable);
      if ('status' in chosen) {
        if (room !== undefined) this.#dropIdleRoom(room);
        return this.#refuse(incoming, chosen.status, chosen.reason);
      }
      audio = chosen;
    }
    const p = this.#newParticipant(id, leg, {
      joinPath: target.kind === 'ivr' && this.#viaNumber(incoming) ? 'dial-in-number' : 'dial-in',
      callerNumber: incoming.fromUser ?? '',
      destinationNumber: incoming.toUser ?? '',
      session: room === undefined ? `ivr-${id}` : room.session,
      role: target.kind === 'meeting' ? target.role : 'attendee',
      language: room?.info.language ?? o.defaultLanguage,
    });
    p.audio = audio;
    this.#participants.set(id, p);
    let cancelled = false;
    leg.events = this.#legEvents(p, () => {
      cancelled = true;
    });
    const failed = (): void => {
      this.#forget(p);
      this.#closeMedia(p);
      if (room !== undefined) this.#dropIdleRoom(room);
    };
    void this.#openMedia(p, desc, room, sdpOf(incoming.offer)).then(
      (ok) => {
        if (cancelled || p.state === 'gone') return;
        if (ok !== true) {
          failed();
          return this.#refuse(incoming, ok.status, ok.reason);
        }
        this.counters.answered++;
        p.answeredLeg = true;
        leg.answer(200, undefined, p.answer, []);
        o.events?.emit({ type: 'participant-connected', meeting: room === undefined ? undefined : this.#meetingSummary(room), participant: this.#summary(p) });
        this.#ensureSweep();
        // The IVR or the meeting begins once the participant confirms (its ACK), see `confirmed`.
        p.afterPlay = room === undefined ? () => this.#startIvr(p) : () => this.#join(p, room);
      },
      (err: unknown) => {
        o.logger.warn({ err, participant: id }, 'meeting participant media not opened');
        failed();
        if (!cancelled) this.#refuse(incoming, 503, 'Media Unavailable');
      },
    );
  }

  #newParticipant(
    id: string,
    leg: CallLegControl,
    init: { readonly joinPath: JoinPath; readonly callerNumber: string; readonly destinationNumber: string; readonly session: string; readonly role: ParticipantRole; readonly language: string },
  ): Participant {
    const o = this.#o;
    const wire = leg.wire();
    const p: Participant = {
      id,
      leg,
      ...init,
      transport: wire.transport,
      wireCallId: wire.wireCallId,
      audio: undefined,
      video: new ParticipantVideoMedia(o.control, id, leg.protocol === 'h323'),
      local: undefined,
      answer: undefined,
      answeredLeg: false,
      offeredKey: undefined,
      state: 'answering',
      room: undefined,
      muted: false,
      talking: false,
      collector: new DtmfCollector({
        clock: o.clock,
        timers: o.timers,
        events: {
          entry: (e) => this.#onEntry(p, e),
          control: (c) => this.#onControl(p, c),
          bargeIn: () => this.#bargeIn(p),
        },
      }),
      tries: 0,
      playToken: 0,
      afterPlay: undefined,
      cueTimer: undefined,
      waitTimer: undefined,
      lastTimer: undefined,
      startedAtMs: o.clock.nowMs(),
      joinedAtMs: undefined,
      endedAtMs: undefined,
      prev: undefined,
      lastRecordMs: o.clock.monoMs(),
      mos: null,
      seenPackets: 0,
      seenAtMs: o.clock.monoMs(),
    };
    return p;
  }

  /** A dial-in number call: the route said so (its target is the IVR and the dialed user is a number). */
  #viaNumber(incoming: IncomingCall): boolean {
    const user = incoming.route.dialed.user ?? '';
    return /^\+?\d{3,15}$/.test(user) && !/^\d{10}$|^\d{13}$/.test(user);
  }

  #refuse(incoming: IncomingCall, status: number, reason: string): void {
    this.counters.refused++;
    this.#o.onRefused?.(status);
    incoming.refuse({ status, reason });
  }

  #full(room: Room): boolean {
    let n = 0;
    for (const p of room.participants.values()) if (p.state !== 'leaving' && p.state !== 'gone') n++;
    return n >= room.info.maxParticipants;
  }

  /** Opens the participant's endpoint (and its bridge function) and writes Carillon's description. */
  async #openMedia(p: Participant, desc: SessionDescription | undefined, room: Room | undefined, offerText: string | undefined): Promise<true | { status: number; reason: string }> {
    const capacity = room?.info.maxParticipants;
    const { control, address, random } = this.#o;
    const a = p.audio;
    const secure = a?.srtp !== undefined || (a === undefined && p.leg.secureSignaling);
    const port = await control.openEndpoint(p.session, p.id, {
      kind: 'audio',
      // H.323 legs take media from their own range (Chime's 5100–6200).
      ...(p.leg.protocol === 'h323' ? { portRange: 'h323' as const } : {}),
      clockRateHz: a?.clockRateHz ?? 8000,
      ...(a === undefined ? {} : { codec: a.codec }),
      functions: true,
      ...(secure ? { secure: true } : {}),
      ...(a === undefined ? {} : { remote: a.remote }),
    });
    if (port === 'ports-exhausted') return { status: 503, reason: 'Media Ports Exhausted' };
    p.local = { address, port, sessionId: String(Math.floor(random.float() * 1e12)), version: 1 };
    if (a === undefined || desc === undefined) {
      // Late offer: Carillon offers; the participant's answer comes with its ACK.
      p.offeredKey = secure ? offerKey() : undefined;
      // A camera line too (plain RTP: a secure late offer stays audio only): an H.323 slow start's room system opens it over H.245.
      const camera = secure ? undefined : await p.video.offerCamera(p.session);
      const text = offerSdp(p.local, this.#o.mixable, p.offeredKey) + (camera === undefined ? '' : `${camera.join('\r\n')}\r\n`);
      p.answer = { contentType: SDP, bytes: Buffer.from(text, 'utf8') };
      return true;
    }
    try {
      await control.attach(p.session, p.id, { fn: 'participant', codec: a.codec, payloadType: a.payloadType, ...(capacity === undefined ? {} : { capacity }) });
    } catch {
      return { status: 488, reason: 'Codec Not Mixable' };
    }
    const video = await p.video.open(p.session, desc);
    this.#answerBfcp(p, room, offerText, video);
    p.answer = { contentType: SDP, bytes: Buffer.from(answerSdp(desc, a, p.local, video), 'utf8') };
    return true;
  }

  /**
   * The offer's BFCP line (RFC 8856), when the participant dialed its meeting directly: Carillon
   * its floor control server, the floor naming the content line it answered. (Through the IVR the
   * meeting is not known when Carillon answers: the line is refused, port 0.)
   */
  #answerBfcp(p: Participant, room: Room | undefined, offerText: string | undefined, answers: Map<number, readonly string[]>): void {
    const content = this.#o.content;
    if (content === undefined || room === undefined || offerText === undefined) return;
    const b = content.answer(room.meetingId, room.session, p.id, offerText, p.video.content?.label);
    if (b !== undefined) answers.set(b.index, b.lines);
  }

  /** Closes the participant's endpoints (audio, and video when it has one). */
  #closeMedia(p: Participant): void {
    void this.#o.control.closeEndpoint(p.session, p.id).catch(() => undefined);
    p.video.close(p.session, () => undefined);
  }

  // ---- Leg events ----

  #legEvents(p: Participant, cancelled: () => void): LegEvents {
    return {
      progress: () => undefined,
      answered: () => undefined,
      failed: () => undefined,
      confirmed: (body) => void this.#confirmed(p, body),
      reoffer: (offer) => void this.#reoffer(p, offer),
      request: (req) => this.#request(p, req),
      refreshed: () => undefined,
      ended: (reason) => {
        if (!p.answeredLeg) {
          // Before Carillon answered (a CANCEL, a lost connection): the request is refused, nothing began.
          cancelled();
          p.leg.answer(reason === 'peer-cancel' ? 487 : 500, undefined, undefined, []);
          this.#forget(p);
          p.leg.close();
          this.#closeMedia(p);
          return;
        }
        this.#leave(p, reason === 'timeout' || reason === 'ack-timeout' ? 'media-timeout' : 'hangup', false);
      },
    };
  }

  async #confirmed(p: Participant, body: SessionBody | undefined): Promise<void> {
    if (p.state !== 'answering') return;
    if (p.audio === undefined) {
      // Late offer: the ACK carries the answer to Carillon's offer.
      const desc = readSdp(sdpOf(body) ?? '');
      const chosen = desc === undefined ? { status: 488 as const, reason: 'No Answer To The Offer' } : audioOfAnswer(desc, this.#o.mixable, p.offeredKey);
      if ('status' in chosen) return this.#leave(p, 'hangup', true, { status: 488, text: chosen.reason });
      p.audio = chosen;
      try {
        await this.#o.control.updateEndpoint(p.session, p.id, chosen.remote);
        await this.#o.control.attach(p.session, p.id, { fn: 'participant', codec: chosen.codec, payloadType: chosen.payloadType, ...(p.room === undefined ? {} : { capacity: p.room.info.maxParticipants }) });
      } catch {
        return this.#leave(p, 'hangup', true, { status: 488, text: 'Codec Not Mixable' });
      }
      if (desc !== undefined) await p.video.answered(p.session, desc);
    }
    if ((p.state as ParticipantState) !== 'answering') return;
    const next = p.afterPlay;
    p.afterPlay = undefined;
    next?.();
  }

  /** A new offer in the established call (hold, a refresh, a codec change): answered on the same port. */
  async #reoffer(p: Participant, offer: PeerOffer): Promise<void> {
    if (p.local === undefined || p.state === 'gone' || p.state === 'leaving') return offer.refuse({ status: 481 });
    if (offer.body === undefined) {
      // An offerless re-INVITE: Carillon's current description is the offer.
      return offer.answer(200, undefined, p.answer, []);
    }
    const desc = readSdp(sdpOf(offer.body) ?? '');
    if (desc === undefined) return offer.refuse({ status: 488, reason: 'Unreadable Session Description' });
    const chosen = chooseAudio(desc, (c) => c === p.audio?.codec, p.audio);
    if ('status' in chosen) return offer.refuse({ status: 488, reason: 'Codec Change Not Supported' });
    try {
      await this.#o.control.updateEndpoint(p.session, p.id, chosen.remote);
    } catch {
      return offer.refuse({ status: 488, reason: 'SRTP Not Available' });
    }
    p.audio = chosen;
    p.local = { ...p.local, version: p.local.version + 1 };
    const video = await p.video.reoffer(p.session, desc);
    this.#answerBfcp(p, p.room, sdpOf(offer.body), video);
    p.answer = { contentType: SDP, bytes: Buffer.from(answerSdp(desc, chosen, p.local, video), 'utf8') };
    offer.answer(200, undefined, p.answer, []);
    p.leg.sessionUpdated();
  }

  #request(p: Participant, req: PeerRequest): void {
    if (req.dtmf !== undefined) {
      req.respond(200, undefined, undefined, []);
      return this.#digit(p, req.dtmf.digit);
    }
    // INFO: a picture_fast_update (RFC 5168) asks for a key frame of what the participant is shown; other INFO is taken.
    if (req.method === 'INFO') {
      if (p.video.camera !== undefined && isPictureFastUpdate(req.body?.contentType, req.body?.bytes)) {
        this.counters.keyFrameRequests++;
        void this.#o.control.keyFrame(p.session, p.video.endpointOf('camera')).catch(() => undefined);
      }
      return req.respond(200, undefined, undefined, []);
    }
    req.respond(req.method === 'REFER' ? 603 : 405, undefined, undefined, []);
  }

  #digit(p: Participant, digit: string): void {
    if (p.state === 'gone' || p.state === 'leaving' || p.state === 'answering') return;
    this.counters.dtmfDigits++;
    p.collector.digit(digit);
  }

  // ---- Media events (routed here for sessions no trunk call owns) ----

  /** Takes a media event; false when it is not a meeting's. */
  onMediaEvent(e: MediaEvent): boolean {
    if (e.ev === 'audio' || e.ev === 'timeout') return false;
    if (e.ev === 'key-frame') return this.#askKeyFrame(e.session, e.endpoint);
    const p = e.endpoint === undefined ? undefined : this.#participants.get(e.endpoint);
    if (e.ev === 'played' && e.endpoint === undefined) return this.#rooms.has(e.session.slice(4));
    if (p === undefined || p.session !== e.session) return false;
    switch (e.ev) {
      case 'dtmf':
        this.#digit(p, e.digit);
        return true;
      case 'speaker':
        p.talking = e.talking;
        return true;
      case 'played': {
        if (e.token !== p.playToken) return true;
        p.collector.setPromptPlaying(false);
        const next = p.afterPlay;
        p.afterPlay = undefined;
        next?.();
        return true;
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  /** The video switch wants a key frame from a participant that takes no RTCP feedback: SIP INFO picture_fast_update (RFC 5168). */
  #askKeyFrame(session: string, endpoint: string): boolean {
    const id = participantOfVideoEndpoint(endpoint);
    const p = id === undefined ? undefined : this.#participants.get(id);
    if (p === undefined || p.session !== session) return false;
    if (p.state === 'gone' || p.state === 'leaving' || !p.leg.confirmed) return true;
    p.leg.relay('INFO', { contentType: MEDIA_CONTROL_TYPE, bytes: Buffer.from(PICTURE_FAST_UPDATE_XML, 'utf8') }, [], 70, () => undefined);
    return true;
  }

  // ---- Prompts ----

  /** Plays prompts to one participant; `then` runs when they end (not when a digit stops them). */
  #play(p: Participant, items: readonly PromptItem[], then?: () => void, loop = false): void {
    const token = this.#playTokens++;
    p.playToken = token;
    p.afterPlay = then;
    p.collector.setPromptPlaying(!loop);
    this.#o.control.play(p.session, p.id, items, token, loop).catch((err: unknown) => {
      this.#o.logger.warn({ err, participant: p.id }, 'prompt not played');
      // Nothing plays: go on as if it had ended.
      if (p.playToken === token) {
        p.collector.setPromptPlaying(false);
        p.afterPlay = undefined;
        then?.();
      }
    });
  }

  #bargeIn(p: Participant): void {
    p.playToken = 0;
    p.afterPlay = undefined;
    // In the waiting room a digit (the passcode) stops the cue, not the hold audio.
    if (p.state === 'waiting') return this.#hold(p);
    void this.#o.control.stopPlay(p.session, p.id).catch(() => undefined);
  }

  #hold(p: Participant): void {
    this.#play(p, [{ kind: 'tone', name: 'hold' }], undefined, true);
  }

  /** A last prompt, then BYE (a guard hangs up if the prompt's end never comes). */
  #goodbye(p: Participant, prompt: string, reason: ParticipantLeaveReason): void {
    if (p.state === 'leaving' || p.state === 'gone') return;
    p.collector.close();
    this.#clearWaiting(p);
    if (p.room !== undefined && p.state === 'in-meeting') void this.#o.control.participant(p.session, p.id, { inMeeting: false }).catch(() => undefined);
    p.state = 'leaving';
    const done = (): void => this.#leave(p, reason, true);
    p.lastTimer = this.#o.timers.setTimeout(done, LAST_PROMPT_GUARD_MS);
    const token = this.#playTokens++;
    p.playToken = token;
    p.afterPlay = done;
    this.#o.control.play(p.session, p.id, [speech(p.language, prompt)], token, false).catch(() => done());
  }

  // ---- IVR ----

  #startIvr(p: Participant): void {
    p.state = 'ivr';
    p.collector.collect({ maxDigits: IVR_MAX_DIGITS });
    this.#play(p, [speech(p.language, 'welcome'), speech(p.language, 'enter-meeting-id')]);
  }

  #onEntry(p: Participant, e: DtmfEntry): void {
    if (p.state === 'ivr') return this.#ivrEntry(p, e);
    // Outside the IVR an entry ended by `#` may be the moderator passcode (at any time).
    if ((p.state === 'waiting' || p.state === 'in-meeting') && e.kind === 'digits' && e.endedBy === 'hash') this.#passcode(p, e.digits);
  }

  #ivrEntry(p: Participant, e: DtmfEntry): void {
    const dir = this.#o.directory;
    if (e.kind === 'digits' && e.endedBy === 'hash') {
      const asHost = e.digits.length === 13 ? dir.meetingOfHostId(e.digits) : undefined;
      const meetingId = e.digits.length === 10 ? dir.meetingOfId(e.digits) : asHost;
      const info = meetingId === undefined ? undefined : dir.meeting(meetingId);
      if (info !== undefined) {
        p.role = asHost !== undefined ? 'host' : 'attendee';
        p.collector.cancel();
        return void this.#enterRoom(p, this.#room(info));
      }
    }
    p.tries++;
    if (p.tries >= IVR_TRIES) {
      this.counters.ivrFailures++;
      return this.#goodbye(p, 'goodbye', 'invalid-id');
    }
    p.collector.collect({ maxDigits: IVR_MAX_DIGITS });
    this.#play(p, e.kind === 'no-input' ? [speech(p.language, 'enter-meeting-id')] : [speech(p.language, 'invalid-meeting-id'), speech(p.language, 'enter-meeting-id')]);
  }

  /** From the IVR into a meeting: the endpoint moves into the meeting's media session. */
  async #enterRoom(p: Participant, room: Room): Promise<void> {
    if (this.#full(room)) {
      this.counters.fullRefusals++;
      return this.#goodbye(p, 'goodbye', 'meeting-ended');
    }
    p.language = room.info.language;
    const ivrSession = p.session;
    const moved = await this.#o.control.moveEndpoint(ivrSession, p.id, room.session, room.info.maxParticipants).catch(() => 'failed' as const);
    if (p.state !== 'ivr') return;
    if (moved === 'other-worker' && (await this.#reinviteInto(p, room))) return this.#join(p, room);
    if (moved !== 'moved') {
      this.#o.logger.warn({ participant: p.id, meeting: room.meetingId, moved }, 'participant could not be moved into its meeting');
      return this.#goodbye(p, 'goodbye', 'meeting-ended');
    }
    // The video follows the audio into the meeting's session (same worker: the audio just moved there).
    await p.video.move(ivrSession, room.session);
    p.session = room.session;
    void this.#o.control.delete(ivrSession).catch(() => undefined);
    this.#join(p, room);
  }

  /**
   * The meeting lives on another media worker than the participant's IVR endpoint: a new
   * endpoint there, offered to the participant in a re-INVITE (same codec, Carillon's same key);
   * once it answers, the IVR endpoint closes. False (nothing changed) when any step fails.
   */
  async #reinviteInto(p: Participant, room: Room): Promise<boolean> {
    const { control } = this.#o;
    const a = p.audio;
    const local = p.local;
    if (a === undefined || local === undefined) return false;
    const port = await control.openEndpoint(room.session, p.id, { kind: 'audio', clockRateHz: a.clockRateHz, codec: a.codec, functions: true, ...(a.srtp === undefined ? {} : { secure: true }), remote: a.remote });
    const fail = (): false => {
      void control.closeEndpoint(room.session, p.id).catch(() => undefined);
      return false;
    };
    if (port === 'ports-exhausted') return false;
    try {
      await control.attach(room.session, p.id, { fn: 'participant', codec: a.codec, payloadType: a.payloadType, capacity: room.info.maxParticipants });
    } catch {
      return fail();
    }
    const next: LocalAudio = { ...local, port, version: local.version + 1 };
    const offer: SessionBody = { contentType: SDP, bytes: Buffer.from(reofferSdp(next, a), 'utf8') };
    const outcome = await new Promise<OfferOutcome>((resolve) => p.leg.reoffer('INVITE', offer, [], 70, resolve));
    // A 2xx to Carillon's own re-INVITE is Carillon's to acknowledge.
    if (outcome.status >= 200 && outcome.status < 300) p.leg.confirm(undefined);
    if (p.state !== 'ivr' || outcome.status < 200 || outcome.status >= 300) return fail();
    const desc = readSdp(sdpOf(outcome.body) ?? '');
    const chosen = desc === undefined ? undefined : audioOfAnswer(desc, (c) => c === a.codec, a.srtp === undefined ? undefined : { suite: a.srtp.suite, key: a.srtp.ourKey });
    if (chosen === undefined || 'status' in chosen) return fail();
    try {
      await control.updateEndpoint(room.session, p.id, chosen.remote);
    } catch {
      return fail();
    }
    const ivrSession = p.session;
    p.session = room.session;
    p.audio = chosen;
    // The re-offer moved the audio only: the video endpoints go with the IVR session.
    p.video.drop();
    p.local = next;
    p.answer = offer;
    p.leg.sessionUpdated();
    void control.delete(ivrSession).catch(() => undefined);
    return true;
  }

  // ---- Meetings ----

  #room(info: MeetingInfo): Room {
    let room = this.#rooms.get(info.meetingId);
    if (room === undefined) {
      room = { meetingId: info.meetingId, info, session: meetingSession(info.meetingId), participants: new Map(), started: !info.moderated, locked: false, recording: false, startedAtMs: undefined, ending: false, endReason: undefined, left: [] };
      this.#rooms.set(info.meetingId, room);
    } else {
      room.info = info;
    }
    return room;
  }

  #meetingSummary(room: Room): MeetingSummary {
    return meetingSummaryOf(room, this.#o.clock.nowMs());
  }

  #summary(p: Participant): ParticipantSummary {
    return participantSummaryOf(p);
  }

  /** A participant reaches its meeting: refused when locked, waits when moderated and not started, else mixed. */
  #join(p: Participant, room: Room): void {
    p.room = room;
    p.language = room.info.language;
    room.participants.set(p.id, p);
    if (room.locked && p.role !== 'host') {
      this.counters.lockedRefusals++;
      return this.#goodbye(p, 'meeting-locked-refused', 'locked');
    }
    if (room.startedAtMs === undefined) {
      room.startedAtMs = this.#o.clock.nowMs();
      this.#o.events?.emit({ type: 'meeting-started', meeting: this.#meetingSummary(room) });
    }
    if (p.role === 'host' && !room.started) this.#start(room, { kind: 'participant', participantId: p.id });
    // An H.323 room system presents through the H.239 token: the meeting's same content floor.
    if (p.leg.presentation !== undefined) this.#o.content?.joinH323(room.meetingId, room.session, p.id, p.leg.presentation);
    if (!room.started) return this.#wait(p);
    this.#mix(p);
  }

  /** The waiting room: hold audio, a voice cue every minute, the passcode taken at any time, ten minutes at most. */
  #wait(p: Participant): void {
    p.state = 'waiting';
    const room = p.room as Room;
    const hold = (): void => this.#hold(p);
    this.#play(p, [speech(p.language, 'waiting-for-host')], hold);
    const { timers } = this.#o;
    const cue = (): void => {
      p.cueTimer = timers.setTimeout(() => {
        if (p.state !== 'waiting') return;
        this.#play(p, [speech(p.language, 'waiting-for-host')], hold);
        cue();
      }, WAITING_CUE_MS);
    };
    cue();
    p.waitTimer = timers.setTimeout(() => {
      if (p.state === 'waiting' && !room.started) this.#goodbye(p, 'goodbye', 'moderator-timeout');
    }, WAITING_ROOM_MS);
  }

  #clearWaiting(p: Participant): void {
    this.#o.timers.clearTimeout(p.cueTimer);
    this.#o.timers.clearTimeout(p.waitTimer);
    p.cueTimer = undefined;
    p.waitTimer = undefined;
  }

  /** Into the mix: it hears the meeting and, unmuted, is heard; the others hear the join tone. */
  #mix(p: Participant): void {
    const room = p.room as Room;
    this.#clearWaiting(p);
    const fromIvr = p.joinPath !== 'dial-out' && p.state === 'ivr';
    const waited = p.state === 'waiting';
    p.state = 'in-meeting';
    p.joinedAtMs = this.#o.clock.nowMs();
    if (room.info.joinTones) this.#announce(room, { kind: 'tone', name: 'join' });
    void this.#o.control.participant(p.session, p.id, { inMeeting: true, muted: p.muted }).catch(() => undefined);
    if (waited) {
      // The hold audio ends; the meeting is heard.
      p.playToken = 0;
      p.afterPlay = undefined;
      void this.#o.control.stopPlay(p.session, p.id).catch(() => undefined);
    } else if (fromIvr) {
      this.#play(p, [speech(p.language, 'joining')]);
    }
    this.#o.events?.emit({ type: 'participant-joined', meeting: this.#meetingSummary(room), participant: this.#summary(p) });
  }

  #announce(room: Room, item: PromptItem): void {
    if (!this.#anyoneIn(room)) return;
    void this.#o.control.play(room.session, undefined, [item], this.#playTokens++, false).catch(() => undefined);
  }

  #anyoneIn(room: Room): boolean {
    for (const q of room.participants.values()) if (q.state === 'in-meeting') return true;
    return false;
  }

  /** A moderated meeting starts: everyone waiting is mixed. */
  #start(room: Room, by: ActionSource): void {
    if (room.started) return;
    room.started = true;
    this.#moderatorEvent(room, 'start', by, undefined);
    for (const q of room.participants.values()) if (q.state === 'waiting') this.#mix(q);
  }

  #passcode(p: Participant, digits: string): void {
    const room = p.room;
    const code = room?.info.moderatorPasscode;
    if (room === undefined || code === undefined || digits !== code) return;
    if (p.role === 'attendee') p.role = 'moderator';
    if (!room.started) this.#start(room, { kind: 'participant', participantId: p.id });
    this.#play(p, [speech(p.language, 'moderator')]);
  }

  #moderator(p: Participant): boolean {
    return p.role === 'host' || p.role === 'moderator';
  }

  #onControl(p: Participant, c: DtmfControl): void {
    const room = p.room;
    if (room === undefined || p.state !== 'in-meeting') return;
    const by: ActionSource = { kind: 'participant', participantId: p.id };
    const lang = p.language;
    switch (c) {
      case 'toggle-mute-self':
        this.#setMuted(p, !p.muted, by);
        return this.#play(p, [speech(lang, p.muted ? 'muted' : 'unmuted')]);
      case 'participant-count':
        return this.#play(p, [{ kind: 'count', language: lang, n: Math.min(250, this.#inMeeting(room)) }]);
      case 'help':
        return this.#play(p, [speech(lang, 'help')]);
      default:
        break;
    }
    if (!this.#moderator(p)) return;
    switch (c) {
      case 'mute-all-others':
        this.#muteAllOthers(room, p.id, by);
        return this.#play(p, [speech(lang, 'all-others-muted')]);
      case 'toggle-lock':
        this.#lock(room, !room.locked, by);
        return this.#play(p, [speech(lang, room.locked ? 'locked' : 'unlocked')]);
      case 'toggle-recording':
        return void this.#setRecording(room, !room.recording, by).then((on) => this.#play(p, [speech(lang, on ? 'recording-started' : 'recording-stopped')]));
      case 'end-for-all':
        return this.#endRoom(room, 'ended-by-moderator', by);
      default:
        return;
    }
  }

  /** Starts or stops the meeting's recording; resolves with whether it records now. */
  async #setRecording(room: Room, on: boolean, by: ActionSource): Promise<boolean> {
    const rec = this.#o.recording;
    if (rec === undefined || room.recording === on) return room.recording;
    if (on) {
      room.recording = true;
      const ok = await rec.start(this.#meetingSummary(room), room.session).catch(() => false);
      if (!ok) {
        room.recording = false;
        return false;
      }
    } else {
      room.recording = false;
      await rec.stop(room.meetingId).catch(() => undefined);
    }
    this.#moderatorEvent(room, on ? 'recording-start' : 'recording-stop', by, undefined);
    return room.recording;
  }

  #inMeeting(room: Room): number {
    let n = 0;
    for (const q of room.participants.values()) if (q.state === 'in-meeting') n++;
    return n;
  }

  #setMuted(p: Participant, muted: boolean, by: ActionSource): void {
    if (p.muted === muted) return;
    p.muted = muted;
    if (p.state === 'in-meeting') void this.#o.control.participant(p.session, p.id, { muted }).catch(() => undefined);
    const room = p.room;
    if (room !== undefined) this.#o.events?.emit({ type: 'participant-muted', meeting: this.#meetingSummary(room), participant: this.#summary(p), by });
  }

  #muteAllOthers(room: Room, except: string | undefined, by: ActionSource): void {
    for (const q of room.participants.values()) if (q.id !== except && (q.state === 'in-meeting' || q.state === 'waiting')) this.#setMuted(q, true, by);
    this.#moderatorEvent(room, 'mute-all-others', by, undefined);
  }

  #lock(room: Room, locked: boolean, by: ActionSource): void {
    if (room.locked === locked) return;
    room.locked = locked;
    this.#moderatorEvent(room, locked ? 'lock' : 'unlock', by, undefined);
  }

  #moderatorEvent(room: Room, action: ModeratorAction, by: ActionSource, target: Participant | undefined): void {
    this.#o.events?.emit({ type: 'moderator-action', meeting: this.#meetingSummary(room), action, by, target: target === undefined ? undefined : this.#summary(target) });
  }

  /** Ends a meeting for everyone: the ending prompt to each, then BYE. */
  #endRoom(room: Room, reason: MeetingEndReason, by: ActionSource | undefined): void {
    if (room.ending) return;
    if (by !== undefined) this.#moderatorEvent(room, 'end', by, undefined);
    room.ending = true;
    const everyone = [...room.participants.values()];
    for (const q of everyone) this.#goodbye(q, 'meeting-ending', 'meeting-ended');
    if (everyone.length === 0) this.#closeRoom(room, reason);
    else room.endReason = reason;
  }

  // ---- Leaving ----

  /**
   * A participant is gone (idempotent): its collector and timers stopped, its endpoint closed
   * (its final figures: the quality record), the leave tone to the others, its events; the
   * meeting ends with its last participant. `hangUp`: Carillon ends the call (BYE), with `cause`.
   */
  #leave(p: Participant, reason: ParticipantLeaveReason, hangUp: boolean, cause?: HangupCause): void {
    if (p.state === 'gone') return;
    const wasIn = p.state === 'in-meeting';
    p.state = 'gone';
    p.endedAtMs = this.#o.clock.nowMs();
    p.collector.close();
    this.#clearWaiting(p);
    this.#o.timers.clearTimeout(p.lastTimer);
    if (hangUp) p.leg.hangup(cause ?? { status: 200, text: reason === 'meeting-ended' ? 'Meeting Ended' : 'Call Completed' });
    p.leg.close();
    this.#forget(p);
    const room = p.room;
    if (room !== undefined) {
      this.#o.content?.leave(room.meetingId, p.id);
      room.participants.delete(p.id);
      if (wasIn && room.info.joinTones && !room.ending) this.#announce(room, { kind: 'tone', name: 'leave' });
    }
    const meeting = room === undefined ? undefined : this.#meetingSummary(room);
    const summary = this.#summary(p);
    if (room !== undefined && room.left.length < MAX_REMEMBERED) room.left.push(summary);
    const events = this.#o.events;
    events?.emit({ type: 'participant-left', meeting, participant: summary, reason });
    p.video.close(p.session, (_role, snap, line) => {
      const record = this.#videoRecord(p, snap, line, true);
      events?.emit({ type: 'participant-quality', meeting, participant: summary, record });
    });
    void this.#o.control
      .closeEndpoint(p.session, p.id)
      .then((snap) => {
        if (snap === undefined) return;
        const record = this.#record(p, snap, true);
        events?.emit({ type: 'participant-quality', meeting, participant: summary, record });
      })
      .catch(() => undefined);
    if (room !== undefined && room.participants.size === 0) {
      if (room.startedAtMs !== undefined) this.#closeRoom(room, room.endReason ?? 'last-left');
      else this.#dropIdleRoom(room);
    }
  }

  /** A meeting nobody is in and nothing was set on (a lock): forgotten. */
  #dropIdleRoom(room: Room): void {
    if (room.participants.size === 0 && room.startedAtMs === undefined && !room.locked && this.#rooms.get(room.meetingId) === room) {
      this.#rooms.delete(room.meetingId);
      this.#o.content?.end(room.meetingId);
    }
  }

  #closeRoom(room: Room, reason: MeetingEndReason): void {
    if (this.#rooms.get(room.meetingId) !== room) return;
    this.#rooms.delete(room.meetingId);
    room.ending = true;
    if (room.recording) {
      room.recording = false;
      void this.#o.recording?.stop(room.meetingId).catch(() => undefined);
    }
    this.#o.content?.end(room.meetingId);
    if (room.startedAtMs !== undefined) this.#o.events?.emit({ type: 'meeting-ended', meeting: this.#meetingSummary(room), reason, participants: room.left });
    void this.#o.control.delete(room.session).catch(() => undefined);
  }

  #forget(p: Participant): void {
    this.#participants.delete(p.id);
    if (this.#participants.size === 0) {
      this.#o.timers.clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  // ---- Quality and media timeout ----

  #record(p: Participant, cur: EndpointSnapshot, ended: boolean): MediaQualityRecord {
    const o = this.#o;
    const record = participantQualityRecord(
      {
        voiceConnectorId: 'meetings',
        callId: p.wireCallId,
        fromUser: p.callerNumber,
        fromCountry: countryOf(p.callerNumber),
        toUser: p.destinationNumber,
        toCountry: countryOf(p.destinationNumber),
        endpointId: p.id,
        region: o.region,
        custSide: 'a',
      },
      o.clock.nowMs(),
      cur,
      p.prev,
      ended,
    );
    p.prev = cur;
    p.lastRecordMs = o.clock.monoMs();
    if (record.mos_btwn_vc_and_cust !== null) p.mos = record.mos_btwn_vc_and_cust;
    o.qualityLog?.write(record);
    return record;
  }

  /** The participant's video record (its video endpoint's figures since the last one). */
  #videoRecord(p: Participant, cur: EndpointSnapshot, line: VideoLine, ended: boolean): MediaQualityRecord {
    const o = this.#o;
    const record = videoQualityRecord(
      { voiceConnectorId: 'meetings', callId: p.wireCallId, fromUser: p.callerNumber, fromCountry: countryOf(p.callerNumber), toUser: p.destinationNumber, toCountry: countryOf(p.destinationNumber), endpointId: cur.id, region: o.region, custSide: 'a' },
      o.clock.nowMs(),
      cur,
      line.prev,
      ended,
    );
    line.prev = cur;
    o.qualityLog?.write(record);
    return record;
  }

  /** One timer for every participant: quality records on their interval, and the media timeout. */
  #ensureSweep(): void {
    if (this.#sweepTimer !== undefined) return;
    const o = this.#o;
    const period = Math.max(1_000, Math.min(o.qualityIntervalMs, o.mediaTimeoutMs > 0 ? o.mediaTimeoutMs / 3 : o.qualityIntervalMs));
    const run = (): void => {
      this.#sweepTimer = o.timers.setTimeout(() => {
        void this.#sweep().finally(() => {
          if (this.#participants.size > 0) run();
          else this.#sweepTimer = undefined;
        });
      }, period);
    };
    run();
  }

  async #sweep(): Promise<void> {
    const o = this.#o;
    const sessions = new Map<string, Participant[]>();
    for (const p of this.#participants.values()) {
      if (p.state === 'answering' || p.state === 'gone' || p.state === 'leaving') continue;
      const list = sessions.get(p.session) ?? [];
      list.push(p);
      sessions.set(p.session, list);
    }
    for (const [session, list] of sessions) {
      const snap = await o.control.query(session).catch(() => undefined);
      if (snap === undefined) continue;
      const now = o.clock.monoMs();
      for (const p of list) {
        const ep = snap.endpoints.find((e) => e.id === p.id);
        if (ep === undefined || p.state === 'gone') continue;
        if (ep.rtpPackets !== p.seenPackets) {
          p.seenPackets = ep.rtpPackets;
          p.seenAtMs = now;
        } else if (o.mediaTimeoutMs > 0 && now - p.seenAtMs >= o.mediaTimeoutMs) {
          this.#leave(p, 'media-timeout', true, { status: 408, text: 'Media Timeout' });
          continue;
        }
        const due = now - p.lastRecordMs >= o.qualityIntervalMs;
        p.video.observe(snap, due ? (_role, cur, line) => this.#videoRecord(p, cur, line, false) : undefined);
        if (due) this.#record(p, ep, false);
      }
    }
  }

  // ---- LiveMeetings (the control plane) ----

  live(meetingId: string): LiveMeeting | undefined {
    const room = this.#rooms.get(meetingId);
    if (room === undefined) return undefined;
    const participants = [...room.participants.values()]
      .filter((p) => p.state === 'waiting' || p.state === 'in-meeting')
      .map((p) => ({
        participantId: p.id,
        role: p.role,
        joinPath: p.joinPath,
        protocol: p.leg.protocol,
        transport: p.transport,
        callerNumber: p.callerNumber,
        codec: p.audio?.codec ?? '',
        state: p.state === 'waiting' ? ('waiting' as const) : ('in-meeting' as const),
        muted: p.muted,
        talking: p.talking,
        mos: p.mos,
        video: p.video.lines.camera === undefined ? null : { codec: p.video.lines.camera.video.codec, sending: p.video.lines.camera.sending },
        presenting: this.#o.content?.presenterOf(meetingId) === p.id,
        joinedAtMs: p.joinedAtMs ?? p.startedAtMs,
      }));
    return { meetingId, started: room.started, locked: room.locked, recording: room.recording, participants };
  }

  #participantOf(meetingId: string, participantId: string): Participant | LiveActionResult {
    const room = this.#rooms.get(meetingId);
    if (room === undefined) return 'no-such-meeting';
    const p = room.participants.get(participantId);
    return p === undefined || p.state === 'gone' || p.state === 'leaving' ? 'no-such-participant' : p;
  }

  mute(meetingId: string, participantId: string, muted: boolean): LiveActionResult {
    const p = this.#participantOf(meetingId, participantId);
    if (typeof p === 'string') return p;
    this.#setMuted(p, muted, { kind: 'api' });
    this.#moderatorEvent(p.room as Room, muted ? 'mute' : 'unmute', { kind: 'api' }, p);
    return 'ok';
  }

  muteAllOthers(meetingId: string, exceptParticipantId: string | undefined): LiveActionResult {
    const room = this.#rooms.get(meetingId);
    if (room === undefined) return 'no-such-meeting';
    this.#muteAllOthers(room, exceptParticipantId, { kind: 'api' });
    return 'ok';
  }

  remove(meetingId: string, participantId: string): LiveActionResult {
    const p = this.#participantOf(meetingId, participantId);
    if (typeof p === 'string') return p;
    this.#moderatorEvent(p.room as Room, 'remove', { kind: 'api' }, p);
    this.#leave(p, 'removed', true, { status: 200, text: 'Removed From Meeting' });
    return 'ok';
  }

  lock(meetingId: string, locked: boolean): LiveActionResult {
    const info = this.#o.directory.meeting(meetingId);
    const room = this.#rooms.get(meetingId) ?? (info === undefined ? undefined : this.#room(info));
    if (room === undefined) return 'no-such-meeting';
    this.#lock(room, locked, { kind: 'api' });
    // Unlocked before anyone joined: nothing is left to remember.
    if (!locked) this.#dropIdleRoom(room);
    return 'ok';
  }

  stopPresenting(meetingId: string): LiveActionResult {
    const room = this.#rooms.get(meetingId);
    if (room === undefined) return 'no-such-meeting';
    if (this.#o.content?.stopPresenting(meetingId) === true) this.#moderatorEvent(room, 'stop-presenting', { kind: 'api' }, undefined);
    return 'ok';
  }

  end(meetingId: string, reason: 'ended-by-api' | 'deleted'): LiveActionResult {
    const room = this.#rooms.get(meetingId);
    if (room === undefined) return 'no-such-meeting';
    this.#endRoom(room, reason, reason === 'ended-by-api' ? { kind: 'api' } : undefined);
    return 'ok';
  }

  dialOut(meetingId: string, toNumber: string, fromNumber: string | undefined): DialOutResult {
    return this.#dialOut(meetingId, toNumber, fromNumber);
  }

  /**
   * Dial-out: Carillon's offer on a fresh endpoint in the meeting's session, placed through the
   * carriers; the answered leg joins the meeting (waiting, if it is moderated and not started).
   */
  #dialOut(meetingId: string, toNumber: string, fromNumber: string | undefined): DialOutResult {
    const o = this.#o;
    const dialer = o.dialOut;
    if (dialer === undefined || this.#draining) return { ok: false, reason: 'no-route', message: 'Dial-out is not available' };
    const info = o.directory.meeting(meetingId);
    if (info === undefined) return { ok: false, reason: 'no-such-meeting', message: 'The meeting does not exist' };
    if (!/^\+[1-9]\d{6,14}$/.test(toNumber)) return { ok: false, reason: 'bad-number', message: 'ToPhoneNumber is not a valid E.164 number' };
    const room = this.#room(info);
    if (room.locked) return { ok: false, reason: 'locked', message: 'The meeting is locked' };
    if (this.#full(room)) {
      this.#dropIdleRoom(room);
      return { ok: false, reason: 'meeting-full', message: 'The meeting is full' };
    }
    const id = `p-${o.random.token(16)}`;
    const transactionId = uuidOf(o.random);
    void this.#placeDialOut(id, room, toNumber, fromNumber, dialer).catch((err: unknown) => {
      o.logger.warn({ err, meeting: meetingId, participant: id }, 'dial-out not placed');
      void o.control.closeEndpoint(room.session, id).catch(() => undefined);
      this.#dropIdleRoom(room);
    });
    this.counters.dialOuts++;
    return { ok: true, transactionId };
  }

  async #placeDialOut(id: string, room: Room, toNumber: string, fromNumber: string | undefined, dialer: CarrierDialOut): Promise<void> {
    const o = this.#o;
    const port = await o.control.openEndpoint(room.session, id, { kind: 'audio', clockRateHz: 8000, functions: true });
    if (port === 'ports-exhausted') throw new Error('media ports exhausted');
    const local: LocalAudio = { address: o.address, port, sessionId: String(Math.floor(o.random.float() * 1e12)), version: 1 };
    const offer: SessionBody = { contentType: SDP, bytes: Buffer.from(offerSdp(local, o.mixable, undefined, CARRIER_ORDER), 'utf8') };
    let p: Participant | undefined;
    const started = dialer.start(toNumber, fromNumber, offer, {
      placed: (leg) => {
        if (p === undefined) {
          p = this.#newParticipant(id, leg, { joinPath: 'dial-out', callerNumber: fromNumber ?? '', destinationNumber: toNumber, session: room.session, role: 'attendee', language: room.info.language });
          p.local = local;
          p.answer = offer;
          p.answeredLeg = true;
          this.#participants.set(id, p);
          room.participants.set(id, p);
          p.room = room;
        }
        const w = leg.wire();
        p.leg = leg;
        p.transport = w.transport;
        p.wireCallId = w.wireCallId;
      },
      progress: () => undefined,
      answered: (_status, _reason, body) => {
        if (p !== undefined) void this.#dialOutAnswered(p, room, body);
      },
      failed: (f) => {
        o.logger.info({ meeting: room.meetingId, participant: id, status: f.status, kind: f.kind }, 'dial-out failed');
        this.counters.dialOutFailures++;
        if (p !== undefined) {
          p.state = 'gone';
          p.collector.close();
          this.#forget(p);
          room.participants.delete(id);
        }
        void o.control.closeEndpoint(room.session, id).catch(() => undefined);
        this.#dropIdleRoom(room);
      },
      confirmed: () => undefined,
      reoffer: (offer2) => (p === undefined ? offer2.refuse({ status: 481 }) : void this.#reoffer(p, offer2)),
      request: (req) => (p === undefined ? req.respond(481, undefined, undefined, []) : this.#request(p, req)),
      refreshed: () => undefined,
      ended: (reason) => {
        if (p !== undefined) this.#leave(p, reason === 'timeout' ? 'media-timeout' : 'hangup', false);
      },
    });
    if (!started.ok) throw new Error(started.message);
  }

  /** The dial-out was answered: its answer sets the audio, Carillon acknowledges, it joins the meeting. */
  async #dialOutAnswered(p: Participant, room: Room, body: SessionBody | undefined): Promise<void> {
    const o = this.#o;
    const desc = readSdp(sdpOf(body) ?? '');
    const chosen = desc === undefined ? { status: 488 as const, reason: 'No Answer To The Offer' } : audioOfAnswer(desc, o.mixable, undefined);
    p.leg.confirm(undefined);
    if ('status' in chosen) return this.#leave(p, 'hangup', true, { status: 488, text: chosen.reason });
    p.audio = chosen;
    try {
      await o.control.updateEndpoint(p.session, p.id, chosen.remote);
      await o.control.attach(p.session, p.id, { fn: 'participant', codec: chosen.codec, payloadType: chosen.payloadType, capacity: room.info.maxParticipants });
    } catch {
      return this.#leave(p, 'hangup', true, { status: 488, text: 'Codec Not Mixable' });
    }
    if (p.state !== 'answering') return;
    o.events?.emit({ type: 'participant-connected', meeting: this.#meetingSummary(room), participant: this.#summary(p) });
    this.#ensureSweep();
    room.participants.delete(p.id);
    this.#join(p, room);
  }

  /** The meeting's recording ended by itself (its sink failed): recording is off, `*9` starts a new one. */
  recordingEnded(meetingId: string): void {
    const room = this.#rooms.get(meetingId);
    if (room === undefined || !room.recording) return;
    room.recording = false;
  }

  /** Stops taking calls and ends every participant's call (shutdown). */
  drain(): void {
    this.#draining = true;
    for (const p of [...this.#participants.values()]) {
      if (!p.answeredLeg) {
        p.leg.answer(503, 'Service Shutting Down', undefined, []);
        this.#leave(p, 'shutdown', false);
      } else {
        this.#leave(p, 'shutdown', true, { status: 503, text: 'Service Shutting Down' });
      }
    }
    for (const room of [...this.#rooms.values()]) this.#closeRoom(room, 'shutdown');
  }
}

/** A version-4 UUID from the injected randomness (a dial-out's TransactionId). */
function uuidOf(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random.float() * 16).toString(16)).join('');
  const variant = ((Math.floor(random.float() * 4) + 8) >>> 0).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
