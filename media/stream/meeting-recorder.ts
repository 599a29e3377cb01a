import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { MediaControl } from '../engine.ts';
import type { MediaEvent } from '../protocol.ts';
import { MIX_ENDPOINT } from '../protocol.ts';
import type { StreamingService, StreamLegMeta, StreamMeetingMeta } from './streaming.ts';

/**
 * A meeting's recording on the streaming sinks: from start to stop, the mix of the meeting's
 * media session (the worker's record command: `audio` events of endpoint MIX_ENDPOINT) is one
 * stream of the StreamingService — one MKV (and WAV, on the file sink) per recording, under
 * `meetings/<meetingId>/` on the file sink — with STARTED when its first fragment is stored and
 * ENDED at stop, its events naming the meeting (id, PIN, external id, organizer). A sink that
 * fails ends the recording (FAILED; the worker stops sending the mix), never the meeting.
 * It is the meetings' MeetingRecording (signaling/calls/meeting-calls.ts).
 */

/** The leg name of a meeting's one stream. */
const MIX_LEG = 'mix';

export interface MeetingRecorderOptions {
  readonly service: StreamingService;
  /** The media plane: its record command. */
  readonly control: Pick<MediaControl, 'record'>;
  /** Fragment length, ms (rounded to whole 20 ms ticks, 20 ms – 10 s). */
  readonly fragmentMs: number;
  /** The region the streams' events and ARNs name. */
  readonly region: string;
  /** How long a Kinesis Video stream keeps a recording (hours; default 24). */
  readonly retentionHours?: number;
  readonly logger: Logger;
}

/** The meeting a recording is of: what its stream says about it. */
export interface RecordedMeeting extends StreamMeetingMeta {
  readonly externalMeetingId: string | undefined;
  readonly organizerUserId: string | undefined;
  readonly organizerEmail: string | undefined;
}

interface Recording {
  readonly meetingId: string;
  readonly session: string;
  readonly transactionId: string;
  /** Ended already (a sink failure): stop has nothing left to do but forget it. */
  ended: boolean;
}

export class MeetingRecorder {
  readonly #o: MeetingRecorderOptions;
  readonly #fragmentMs: number;
  readonly #byMeeting = new Map<string, Recording>();
  readonly #bySession = new Map<string, Recording>();
  /** Told when a recording ends by itself (its sink failed), not by stop: the meeting's "recording" flag can follow. */
  onEnded: ((meetingId: string, reason: string) => void) | undefined;

  constructor(o: MeetingRecorderOptions) {
    this.#o = o;
    this.#fragmentMs = Math.min(10_000, Math.max(20, Math.round(o.fragmentMs / 20) * 20));
  }

  /** Meetings being recorded now. */
  get active(): number {
    return this.#byMeeting.size;
  }

  /** Begins recording `meeting`'s media session `session`; false when the media plane refused (recording stays off). */
  async start(meeting: RecordedMeeting, session: string): Promise<boolean> {
    if (this.#byMeeting.has(meeting.meetingId)) return true;
    if (this.#bySession.has(session)) return false;
    const rec: Recording = { meetingId: meeting.meetingId, session, transactionId: crypto.randomUUID(), ended: false };
    const meta: StreamLegMeta = {
      voiceConnectorId: '',
      transactionId: rec.transactionId,
      callId: '',
      direction: 'Inbound',
      isCaller: false,
      region: this.#o.region,
      retentionHours: this.#o.retentionHours ?? 24,
      meeting: {
        meetingId: meeting.meetingId,
        meetingPin: meeting.meetingPin,
        externalMeetingId: meeting.externalMeetingId,
        organizerUserId: meeting.organizerUserId,
        organizerEmail: meeting.organizerEmail,
      },
    };
    this.#byMeeting.set(rec.meetingId, rec);
    this.#bySession.set(session, rec);
    this.#o.service.begin(session, (leg) => (leg === MIX_LEG ? meta : undefined), (_leg, reason) => this.#sinkFailed(rec, reason));
    try {
      await this.#o.control.record(session, this.#fragmentMs);
      return !rec.ended;
    } catch (err) {
      this.#o.logger.warn({ err, meetingId: rec.meetingId }, 'meeting recording could not start');
      rec.ended = true;
      this.#forget(rec);
      await this.#o.service.end(session);
      return false;
    }
  }

  /** Ends the meeting's recording: the worker's last fragment goes in, then the stream ENDS. */
  async stop(meetingId: string): Promise<void> {
    const rec = this.#byMeeting.get(meetingId);
    if (rec === undefined) return;
    if (rec.ended) return this.#forget(rec);
    this.#byMeeting.delete(meetingId);
    rec.ended = true;
    // The worker sends the mix's last fragment before it answers: it is in the stream before the end.
    await this.#o.control.record(rec.session, 0).catch(() => undefined);
    this.#forget(rec);
    await this.#o.service.end(rec.session);
  }

  /** Takes a recorded meeting's mix fragment (routed here like the meetings' other media events); false when it is not one. */
  onMediaEvent(e: MediaEvent): boolean {
    if (e.ev !== 'audio' || e.endpoint !== MIX_ENDPOINT) return false;
    const rec = this.#bySession.get(e.session);
    if (rec === undefined) return false;
    this.#o.service.audio(rec.session, MIX_LEG, e.timecodeMs, e.pcm);
    return true;
  }

  /** Every recording ends (shutdown): their streams end, as when stopped. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#byMeeting.keys()].map((id) => this.stop(id)));
  }

  /** The stream FAILED (its event is out): the worker stops sending, the stream ends; the meeting goes on. */
  #sinkFailed(rec: Recording, reason: string): void {
    if (rec.ended) return;
    rec.ended = true;
    // Not from inside the service's own call: after it has given the sink up.
    queueMicrotask(() => {
      this.#forget(rec);
      void this.#o.control.record(rec.session, 0).catch(() => undefined);
      void this.#o.service.end(rec.session);
      this.onEnded?.(rec.meetingId, reason);
    });
  }

  #forget(rec: Recording): void {
    if (this.#byMeeting.get(rec.meetingId) === rec) this.#byMeeting.delete(rec.meetingId);
    if (this.#bySession.get(rec.session) === rec) this.#bySession.delete(rec.session);
  }
}
